package backend_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// softKey is a security key in software for the Service's tests: it answers a registration's
// options as an authenticator with "none" attestation does (W3C WebAuthn §6.5, §8.7), with a
// P-256 key (COSE ES256), so FinishKeyRegistration runs the library's real checks on it. The
// browser tests use Chromium's virtual authenticator instead.
type softKey struct {
	id   []byte
	priv *ecdsa.PrivateKey
}

func newSoftKey(t *testing.T) *softKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &softKey{id: id, priv: priv}
}

var b64 = base64.RawURLEncoding

// register answers the options of BeginKeyRegistration as a browser at origin would.
func (k *softKey) register(t *testing.T, options []byte, origin string) []byte {
	t.Helper()
	var opts struct {
		PublicKey struct {
			Challenge string
			RP        struct{ ID string }
		}
	}
	if err := json.Unmarshal(options, &opts); err != nil {
		t.Fatalf("registration options %s: %v", options, err)
	}
	clientData, _ := json.Marshal(map[string]any{"type": "webauthn.create", "challenge": opts.PublicKey.Challenge, "origin": origin, "crossOrigin": false})
	pub, err := k.priv.PublicKey.Bytes() // uncompressed: 0x04, X, Y
	if err != nil {
		t.Fatal(err)
	}
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:65]})
	if err != nil {
		t.Fatal(err)
	}
	rpHash := sha256.Sum256([]byte(opts.PublicKey.RP.ID))
	auth := append(rpHash[:], 0x45)               // flags: user present, user verified, attested credential data
	auth = binary.BigEndian.AppendUint32(auth, 0) // signature counter
	auth = append(auth, make([]byte, 16)...)      // AAGUID: none
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(k.id)))
	auth = append(append(auth, k.id...), cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]string{"clientDataJSON": b64.EncodeToString(clientData), "attestationObject": b64.EncodeToString(att)},
	})
	return out
}
