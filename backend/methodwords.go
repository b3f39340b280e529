package backend

import "fmt"

// The words about recovery codes follow the person's method: the help article's ("your phone",
// "a code from your app or text message") for app and SMS users, the key's for a person who
// enrolled with security keys, who may have no phone in the story at all.

// RecoveryCodesLeadText is the lead of the recovery codes sheet for a person enrolled with m.
func RecoveryCodesLeadText(m Method) string {
	if m == MethodWebAuthn {
		return "You are set up to use Two-Factor Authentication. If you ever cannot use your security key or passkey (left at home, lost, or a new computer), each of these codes lets you log in once instead."
	}
	return "You are set up to use Two-Factor Authentication. If you ever cannot use your phone (no cell service, no Internet, or a lost phone), each of these codes lets you log in once instead of a code from your app or text message."
}

// RecoveryLoginLeadText is the lead of the login's recovery code step for a person enrolled
// with m.
func RecoveryLoginLeadText(m Method) string {
	if m == MethodWebAuthn {
		return fmt.Sprintf("No security key or passkey with you? Enter one of the %d recovery codes you saved when you set up Two-Factor Authentication. Each code works once.", RecoveryCodeCount)
	}
	return fmt.Sprintf("No access to your phone? Enter one of the %d recovery codes you saved when you set up Two-Factor Authentication. Each code works once.", RecoveryCodeCount)
}

// RecoveryOtherWay is the way back from the recovery code step to the person's method: the
// link's label, and whether it leads to the code step (?method=code: a person with keys is
// otherwise shown the key step first) rather than the key step.
func RecoveryOtherWay(m Method) (label string, codeStep bool) {
	switch m {
	case MethodApp:
		return "Use a code from your app instead", true
	case MethodSMS:
		return "Use a code by text message instead", true
	}
	return "Use your security key instead", false
}

// CodeStepKeyLink is the link from the code step back to the key step, for a person who has
// keys beside their app or SMS, "" for one who has none.
func CodeStepKeyLink(hasKeys bool) string {
	if hasKeys {
		return "Use your security key instead"
	}
	return ""
}

// lostDevice is what a person enrolled with m may have lost, in RecoveryCodeUsedNotice.
func lostDevice(m Method) string {
	if m == MethodWebAuthn {
		return "security key"
	}
	return "phone"
}

// RecoveryCodeUsedNotice is what both front ends say on the Profile after a login with a
// recovery code, to a person enrolled with m: how many are left, and what to do about it.
func RecoveryCodeUsedNotice(left int, m Method) string {
	lost := lostDevice(m)
	again := "set up Two-Factor again"
	if m == MethodWebAuthn {
		again = "add a new key below and remove the lost one"
	}
	switch left {
	case 0:
		return fmt.Sprintf("You used your last recovery code. Regenerate recovery codes now: without them, a lost %s locks you out.", lost)
	case 1:
		return fmt.Sprintf("You used a recovery code to log in. 1 recovery code left: regenerate recovery codes below for a new set, and if you lost your %s, %s.", lost, again)
	}
	return fmt.Sprintf("You used a recovery code to log in. %d recovery codes left: regenerate recovery codes below for a new set, and if you lost your %s, %s.", left, lost, again)
}

// SetupAgainText is what the Setup Two-Factor page says to a person enrolled with m already:
// what setting up the app or SMS again changes, and that security keys are not part of it
// (they stay, offered first beside the method: removing one is on the Profile).
func SetupAgainText(m Method) string {
	if m == MethodWebAuthn {
		return "Your Two-Factor Authentication method now: " + m.Label() + ". Setting up the App or SMS adds it beside your security keys, which stay, and gives you new recovery codes."
	}
	return "Your Two-Factor Authentication method now: " + m.Label() + ". Setting it up again replaces your app or phone, which is how you change your phone number, and gives you new recovery codes. Security keys you added stay: remove them on your Profile."
}

// setupAgainHelp is the Profile's hint beside Setup Two-Factor for a person enrolled with m.
func setupAgainHelp(m Method) string {
	if m == MethodWebAuthn {
		return "Set it up again to add the App or SMS beside your security keys, which stay; your current setup stays until the new one is confirmed."
	}
	return "Set it up again to move to a new phone or switch between app and SMS; your current setup stays until the new one is confirmed, and security keys you added stay."
}
