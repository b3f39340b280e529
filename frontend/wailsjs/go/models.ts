export namespace backend {
	
	export enum AccountState {
	    Active = "active",
	    Disabled = "disabled",
	    Locked = "locked",
	}
	export enum ActionKey {
	    Unlock = "unlock",
	    RequireTwoFactor = "require-two-factor",
	    DisableTwoFactor = "disable-two-factor",
	    ResetTwoFactor = "reset-two-factor",
	    SetPassword = "set-password",
	    SetupTwoFactor = "setup-two-factor",
	    RegenerateRecoveryCodes = "regenerate-recovery-codes",
	    DisableOwnTwoFactor = "disable-own-two-factor",
	    ChangePassword = "change-password",
	}
	export enum Method {
	    None = "none",
	    App = "app",
	    Sms = "sms",
	    Webauthn = "webauthn",
	}
	export enum Role {
	    User = "user",
	    Admin = "admin",
	}
	export enum TwoFactorStatus {
	    No = "no",
	    Pending = "pending",
	    Enabled = "enabled",
	}

}

export namespace main {
	
	export class ActionView {
	    key: backend.ActionKey;
	    label: string;
	    confirm: string;
	    help: string;
	    done: string;
	    needsPassword: boolean;
	    danger: boolean;
	
	    static createFrom(source: any = {}) {
	        return new ActionView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.key = source["key"];
	        this.label = source["label"];
	        this.confirm = source["confirm"];
	        this.help = source["help"];
	        this.done = source["done"];
	        this.needsPassword = source["needsPassword"];
	        this.danger = source["danger"];
	    }
	}
	export class AppEnrollmentView {
	    key: string;
	    uri: string;
	    qrCodeUrl: string;
	    issuer: string;
	    account: string;
	
	    static createFrom(source: any = {}) {
	        return new AppEnrollmentView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.key = source["key"];
	        this.uri = source["uri"];
	        this.qrCodeUrl = source["qrCodeUrl"];
	        this.issuer = source["issuer"];
	        this.account = source["account"];
	    }
	}
	export class AppForm {
	    name: string;
	    redirectUris: string;
	    domains: string;
	    public: boolean;
	    audience: string;
	    requireTwoFactor: boolean;
	    backchannelLogoutUri: string;
	
	    static createFrom(source: any = {}) {
	        return new AppForm(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.name = source["name"];
	        this.redirectUris = source["redirectUris"];
	        this.domains = source["domains"];
	        this.public = source["public"];
	        this.audience = source["audience"];
	        this.requireTwoFactor = source["requireTwoFactor"];
	        this.backchannelLogoutUri = source["backchannelLogoutUri"];
	    }
	}
	export class AppTypeOption {
	    public: boolean;
	    help: string;
	
	    static createFrom(source: any = {}) {
	        return new AppTypeOption(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.public = source["public"];
	        this.help = source["help"];
	    }
	}
	export class AppOption {
	    key: string;
	    label: string;
	
	    static createFrom(source: any = {}) {
	        return new AppOption(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.key = source["key"];
	        this.label = source["label"];
	    }
	}
	export class AppFormsView {
	    lead: string;
	    empty: string;
	    redirectHelp: string;
	    domainsHelp: string;
	    requireHelp: string;
	    backchannelHelp: string;
	    passwordReason: string;
	    audiences: AppOption[];
	    defaultAudience: string;
	    types: AppTypeOption[];
	    fieldName: string;
	    fieldRedirectUris: string;
	    fieldDomains: string;
	    fieldAudience: string;
	    fieldBackchannel: string;
	
	    static createFrom(source: any = {}) {
	        return new AppFormsView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.lead = source["lead"];
	        this.empty = source["empty"];
	        this.redirectHelp = source["redirectHelp"];
	        this.domainsHelp = source["domainsHelp"];
	        this.requireHelp = source["requireHelp"];
	        this.backchannelHelp = source["backchannelHelp"];
	        this.passwordReason = source["passwordReason"];
	        this.audiences = this.convertValues(source["audiences"], AppOption);
	        this.defaultAudience = source["defaultAudience"];
	        this.types = this.convertValues(source["types"], AppTypeOption);
	        this.fieldName = source["fieldName"];
	        this.fieldRedirectUris = source["fieldRedirectUris"];
	        this.fieldDomains = source["fieldDomains"];
	        this.fieldAudience = source["fieldAudience"];
	        this.fieldBackchannel = source["fieldBackchannel"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class AppView {
	    id: number;
	    clientId: string;
	    name: string;
	    public: boolean;
	    typeLabel: string;
	    typeFixed: string;
	    redirectUris: string[];
	    domains: string[];
	    audience: string;
	    audienceLabel: string;
	    requireTwoFactor: boolean;
	    backchannelLogoutUri: string;
	    created: string;
	    updated: string;
	    deleteConfirm: string;
	    regenerateConfirm: string;
	    notice: string;
	
	    static createFrom(source: any = {}) {
	        return new AppView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.clientId = source["clientId"];
	        this.name = source["name"];
	        this.public = source["public"];
	        this.typeLabel = source["typeLabel"];
	        this.typeFixed = source["typeFixed"];
	        this.redirectUris = source["redirectUris"];
	        this.domains = source["domains"];
	        this.audience = source["audience"];
	        this.audienceLabel = source["audienceLabel"];
	        this.requireTwoFactor = source["requireTwoFactor"];
	        this.backchannelLogoutUri = source["backchannelLogoutUri"];
	        this.created = source["created"];
	        this.updated = source["updated"];
	        this.deleteConfirm = source["deleteConfirm"];
	        this.regenerateConfirm = source["regenerateConfirm"];
	        this.notice = source["notice"];
	    }
	}
	export class AppListView {
	    apps: AppView[];
	    total: number;
	    offset: number;
	    limit: number;
	
	    static createFrom(source: any = {}) {
	        return new AppListView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.apps = this.convertValues(source["apps"], AppView);
	        this.total = source["total"];
	        this.offset = source["offset"];
	        this.limit = source["limit"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class AppQuery {
	    offset: number;
	    limit: number;
	
	    static createFrom(source: any = {}) {
	        return new AppQuery(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.offset = source["offset"];
	        this.limit = source["limit"];
	    }
	}
	export class AppSecretView {
	    app?: AppView;
	    secret: string;
	    once: string;
	    notice: string;
	
	    static createFrom(source: any = {}) {
	        return new AppSecretView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.app = this.convertValues(source["app"], AppView);
	        this.secret = source["secret"];
	        this.once = source["once"];
	        this.notice = source["notice"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	
	export class AuditEventView {
	    id: number;
	    at: string;
	    time: string;
	    action: string;
	    text: string;
	    actor: string;
	    target: string;
	    app: string;
	    detail: string;
	    ip: string;
	
	    static createFrom(source: any = {}) {
	        return new AuditEventView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.at = source["at"];
	        this.time = source["time"];
	        this.action = source["action"];
	        this.text = source["text"];
	        this.actor = source["actor"];
	        this.target = source["target"];
	        this.app = source["app"];
	        this.detail = source["detail"];
	        this.ip = source["ip"];
	    }
	}
	export class AuditKindOption {
	    key: string;
	    label: string;
	
	    static createFrom(source: any = {}) {
	        return new AuditKindOption(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.key = source["key"];
	        this.label = source["label"];
	    }
	}
	export class AuditLogView {
	    events: AuditEventView[];
	    total: number;
	    offset: number;
	    limit: number;
	
	    static createFrom(source: any = {}) {
	        return new AuditLogView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.events = this.convertValues(source["events"], AuditEventView);
	        this.total = source["total"];
	        this.offset = source["offset"];
	        this.limit = source["limit"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class AuditQuery {
	    action: string;
	    username: string;
	    offset: number;
	    limit: number;
	
	    static createFrom(source: any = {}) {
	        return new AuditQuery(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.action = source["action"];
	        this.username = source["username"];
	        this.offset = source["offset"];
	        this.limit = source["limit"];
	    }
	}
	export class UserView {
	    id: number;
	    username: string;
	    displayName: string;
	    name: string;
	    email: string;
	    role: backend.Role;
	    roleLabel: string;
	    method: backend.Method;
	    methodLabel: string;
	    twoFactorStatus: backend.TwoFactorStatus;
	    twoFactorStatusLabel: string;
	    disabled: boolean;
	    twoFactorRequired: boolean;
	    smsPhone: string;
	    smsPhoneDisplay: string;
	    smsPhoneMasked: string;
	    mustChangePassword: boolean;
	    account: backend.AccountState;
	    accountLabel: string;
	    lockedUntil: string;
	    actions: ActionView[];
	    createdAt: string;
	    updatedAt: string;
	    notice: string;
	
	    static createFrom(source: any = {}) {
	        return new UserView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.username = source["username"];
	        this.displayName = source["displayName"];
	        this.name = source["name"];
	        this.email = source["email"];
	        this.role = source["role"];
	        this.roleLabel = source["roleLabel"];
	        this.method = source["method"];
	        this.methodLabel = source["methodLabel"];
	        this.twoFactorStatus = source["twoFactorStatus"];
	        this.twoFactorStatusLabel = source["twoFactorStatusLabel"];
	        this.disabled = source["disabled"];
	        this.twoFactorRequired = source["twoFactorRequired"];
	        this.smsPhone = source["smsPhone"];
	        this.smsPhoneDisplay = source["smsPhoneDisplay"];
	        this.smsPhoneMasked = source["smsPhoneMasked"];
	        this.mustChangePassword = source["mustChangePassword"];
	        this.account = source["account"];
	        this.accountLabel = source["accountLabel"];
	        this.lockedUntil = source["lockedUntil"];
	        this.actions = this.convertValues(source["actions"], ActionView);
	        this.createdAt = source["createdAt"];
	        this.updatedAt = source["updatedAt"];
	        this.notice = source["notice"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class LoginView {
	    step: string;
	    user?: UserView;
	    notice: string;
	
	    static createFrom(source: any = {}) {
	        return new LoginView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.step = source["step"];
	        this.user = this.convertValues(source["user"], UserView);
	        this.notice = source["notice"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class EnrollmentView {
	    recoveryCodes: string[];
	    login?: LoginView;
	
	    static createFrom(source: any = {}) {
	        return new EnrollmentView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.recoveryCodes = source["recoveryCodes"];
	        this.login = this.convertValues(source["login"], LoginView);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class NoticesView {
	    loggedOut: string;
	    twoFactorEnabled: string;
	    userKeyRemoved: string;
	
	    static createFrom(source: any = {}) {
	        return new NoticesView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.loggedOut = source["loggedOut"];
	        this.twoFactorEnabled = source["twoFactorEnabled"];
	        this.userKeyRemoved = source["userKeyRemoved"];
	    }
	}
	export class StatusOption {
	    key: backend.TwoFactorStatus;
	    label: string;
	
	    static createFrom(source: any = {}) {
	        return new StatusOption(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.key = source["key"];
	        this.label = source["label"];
	    }
	}
	export class RoleOption {
	    key: backend.Role;
	    label: string;
	
	    static createFrom(source: any = {}) {
	        return new RoleOption(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.key = source["key"];
	        this.label = source["label"];
	    }
	}
	export class NewUserForm {
	    username: string;
	    displayName: string;
	    email: string;
	    password: string;
	    role: backend.Role;
	    requireTwoFactor: boolean;
	    mustChangePassword: boolean;
	
	    static createFrom(source: any = {}) {
	        return new NewUserForm(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.username = source["username"];
	        this.displayName = source["displayName"];
	        this.email = source["email"];
	        this.password = source["password"];
	        this.role = source["role"];
	        this.requireTwoFactor = source["requireTwoFactor"];
	        this.mustChangePassword = source["mustChangePassword"];
	    }
	}
	export class FormsView {
	    minPasswordLength: number;
	    maxPasswordLength: number;
	    passwordHintOwn: string;
	    passwordHintForUser: string;
	    recoveryCodeCount: number;
	    newUser: NewUserForm;
	    setPasswordMustChange: boolean;
	    roles: RoleOption[];
	    statuses: StatusOption[];
	    auditKinds: AuditKindOption[];
	    notices: NoticesView;
	    apps: AppFormsView;
	    smsUnavailable: string;
	
	    static createFrom(source: any = {}) {
	        return new FormsView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.minPasswordLength = source["minPasswordLength"];
	        this.maxPasswordLength = source["maxPasswordLength"];
	        this.passwordHintOwn = source["passwordHintOwn"];
	        this.passwordHintForUser = source["passwordHintForUser"];
	        this.recoveryCodeCount = source["recoveryCodeCount"];
	        this.newUser = this.convertValues(source["newUser"], NewUserForm);
	        this.setPasswordMustChange = source["setPasswordMustChange"];
	        this.roles = this.convertValues(source["roles"], RoleOption);
	        this.statuses = this.convertValues(source["statuses"], StatusOption);
	        this.auditKinds = this.convertValues(source["auditKinds"], AuditKindOption);
	        this.notices = this.convertValues(source["notices"], NoticesView);
	        this.apps = this.convertValues(source["apps"], AppFormsView);
	        this.smsUnavailable = source["smsUnavailable"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class KeyView {
	    id: number;
	    name: string;
	    added: string;
	    lastUsed: string;
	    warning: string;
	    confirm: string;
	    removable: boolean;
	
	    static createFrom(source: any = {}) {
	        return new KeyView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.name = source["name"];
	        this.added = source["added"];
	        this.lastUsed = source["lastUsed"];
	        this.warning = source["warning"];
	        this.confirm = source["confirm"];
	        this.removable = source["removable"];
	    }
	}
	
	
	
	export class ProfileView {
	    user: UserView;
	    recoveryCodesLeft: number;
	    smsConfigured: boolean;
	    smsUnavailable: string;
	    actions: ActionView[];
	    keys: KeyView[];
	    keysNote: string;
	    keysUrl: string;
	
	    static createFrom(source: any = {}) {
	        return new ProfileView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.user = this.convertValues(source["user"], UserView);
	        this.recoveryCodesLeft = source["recoveryCodesLeft"];
	        this.smsConfigured = source["smsConfigured"];
	        this.smsUnavailable = source["smsUnavailable"];
	        this.actions = this.convertValues(source["actions"], ActionView);
	        this.keys = this.convertValues(source["keys"], KeyView);
	        this.keysNote = source["keysNote"];
	        this.keysUrl = source["keysUrl"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class RecoveryCodeSheetView {
	    text: string;
	    replaced: string;
	
	    static createFrom(source: any = {}) {
	        return new RecoveryCodeSheetView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.text = source["text"];
	        this.replaced = source["replaced"];
	    }
	}
	
	export class SMSCodeSentView {
	    maskedPhone: string;
	    expiresAt: string;
	    resendAt: string;
	
	    static createFrom(source: any = {}) {
	        return new SMSCodeSentView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.maskedPhone = source["maskedPhone"];
	        this.expiresAt = source["expiresAt"];
	        this.resendAt = source["resendAt"];
	    }
	}
	export class SMSEnrollmentView {
	    code: string;
	    phoneNumber: string;
	    phoneDisplay: string;
	    expiresAt: string;
	
	    static createFrom(source: any = {}) {
	        return new SMSEnrollmentView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.code = source["code"];
	        this.phoneNumber = source["phoneNumber"];
	        this.phoneDisplay = source["phoneDisplay"];
	        this.expiresAt = source["expiresAt"];
	    }
	}
	export class SMSEnrollmentStatusView {
	    state: string;
	    maskedPhone: string;
	    expiresAt: string;
	    refused: string;
	    setup?: SMSEnrollmentView;
	
	    static createFrom(source: any = {}) {
	        return new SMSEnrollmentStatusView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.state = source["state"];
	        this.maskedPhone = source["maskedPhone"];
	        this.expiresAt = source["expiresAt"];
	        this.refused = source["refused"];
	        this.setup = this.convertValues(source["setup"], SMSEnrollmentView);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class StatusCount {
	    status: backend.TwoFactorStatus;
	    label: string;
	    count: number;
	
	    static createFrom(source: any = {}) {
	        return new StatusCount(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.status = source["status"];
	        this.label = source["label"];
	        this.count = source["count"];
	    }
	}
	
	export class UserForm {
	    displayName: string;
	    email: string;
	    role: backend.Role;
	    disabled: boolean;
	
	    static createFrom(source: any = {}) {
	        return new UserForm(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.displayName = source["displayName"];
	        this.email = source["email"];
	        this.role = source["role"];
	        this.disabled = source["disabled"];
	    }
	}
	export class UserListView {
	    users: UserView[];
	    total: number;
	    offset: number;
	    limit: number;
	
	    static createFrom(source: any = {}) {
	        return new UserListView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.users = this.convertValues(source["users"], UserView);
	        this.total = source["total"];
	        this.offset = source["offset"];
	        this.limit = source["limit"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class UserQuery {
	    search: string;
	    status: backend.TwoFactorStatus;
	    offset: number;
	    limit: number;
	
	    static createFrom(source: any = {}) {
	        return new UserQuery(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.search = source["search"];
	        this.status = source["status"];
	        this.offset = source["offset"];
	        this.limit = source["limit"];
	    }
	}

}

