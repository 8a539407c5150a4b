//! Signing keys: RSA-2048 pairs with a self-signed certificate each, published as a JWKS in
//! Entra's shape (`kid` = `x5t` = the certificate's SHA-1 thumbprint, `x5c`, `use: sig`).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::Value;
use sha1::Digest as _;

use crate::error::{Error, Result};

/// One signing key with its certificate.
pub(crate) struct SigningKey {
    pub(crate) kid: String,
    encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
    jwk: Value,
    cert_der: Vec<u8>,
    cert_pem: String,
    key_pem: String,
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key and a self-signed certificate for it.
    pub(crate) fn generate(subject: &str) -> Result<Self> {
        let crypto =
            |e: &dyn std::fmt::Display| Error::failure(format!("generating a signing key: {e}"));
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(|e| crypto(&e))?;
        let mut params =
            rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| crypto(&e))?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, subject);
        let cert = params.self_signed(&pair).map_err(|e| crypto(&e))?;
        Self::from_parts(cert.der().to_vec(), cert.pem(), pair.serialize_pem())
    }

    /// A key saved by a previous run (`--state-dir`): its certificate and private key, PEM.
    pub(crate) fn from_pem(pem: &super::state::KeyPem) -> Result<Self> {
        use rustls_pki_types::pem::PemObject as _;
        let der = rustls_pki_types::CertificateDer::from_pem_slice(pem.cert.as_bytes())
            .map_err(|e| Error::failure(format!("reading a saved signing certificate: {e}")))?;
        Self::from_parts(der.to_vec(), pem.cert.clone(), pem.key.clone())
    }

    /// The certificate and private key, PEM, for `--state-dir`.
    pub(crate) fn to_pem(&self) -> super::state::KeyPem {
        super::state::KeyPem {
            cert: self.cert_pem.clone(),
            key: self.key_pem.clone(),
        }
    }

    fn from_parts(der: Vec<u8>, cert_pem: String, key_pem: String) -> Result<Self> {
        let crypto =
            |e: &dyn std::fmt::Display| Error::failure(format!("loading a signing key: {e}"));
        let kid = URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&der));
        let encoding = EncodingKey::from_rsa_pem(key_pem.as_bytes()).map_err(|e| crypto(&e))?;
        let mut jwk =
            Jwk::from_encoding_key(&encoding, Algorithm::RS256).map_err(|e| crypto(&e))?;
        jwk.common.key_algorithm = None;
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_id = Some(kid.clone());
        jwk.common.x509_sha1_fingerprint = Some(kid.clone());
        jwk.common.x509_chain = Some(vec![STANDARD.encode(&der)]);
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| crypto(&e))?;
        let jwk = serde_json::to_value(&jwk).map_err(|e| crypto(&e))?;
        Ok(Self {
            kid,
            encoding,
            decoding,
            jwk,
            cert_der: der,
            cert_pem,
            key_pem,
        })
    }

    /// The key as an app's certificate credential: certificate PEM, key PEM, and what the
    /// token endpoint needs to check a `client_assertion` signed with it.
    pub(crate) fn credential_files(&self) -> (String, String, super::AppCertificate) {
        let x5t_s256 = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&self.cert_der));
        let cert = super::AppCertificate {
            x5t: self.kid.clone(),
            x5t_s256,
            key: self.decoding.clone(),
        };
        (self.cert_pem.clone(), self.key_pem.clone(), cert)
    }

    /// Signs `claims` as an RS256 JWT with Entra's header (`typ`, `alg`, `x5t`, `kid`).
    pub(crate) fn sign(&self, claims: &Value) -> Result<String> {
        self.sign_with_kid(claims, None)
    }

    /// As `sign`, with another `kid` in the header when given.
    pub(crate) fn sign_with_kid(&self, claims: &Value, kid: Option<&str>) -> Result<String> {
        let kid = kid.unwrap_or(&self.kid).to_owned();
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".to_owned());
        header.x5t = Some(kid.clone());
        header.kid = Some(kid);
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| Error::failure(format!("signing a token: {e}")))
    }

    /// The key's JWK, with Entra's per-key `issuer` field.
    pub(crate) fn jwk(&self, issuer: &str) -> Value {
        let mut jwk = self.jwk.clone();
        jwk["issuer"] = Value::String(issuer.to_owned());
        jwk
    }
}

/// The published key set: the first key signs, every key verifies.
pub(crate) struct KeySet {
    pub(crate) keys: Vec<SigningKey>,
}

impl KeySet {
    /// Two fresh keys, as Entra publishes more than one at a time.
    pub(crate) fn generate() -> Result<Self> {
        Ok(Self {
            keys: vec![
                SigningKey::generate("azobo dev tenant signing key 1")?,
                SigningKey::generate("azobo dev tenant signing key 2")?,
            ],
        })
    }

    /// Keys saved by a previous run; `None` when there are none (or they do not load).
    pub(crate) fn from_pem(saved: &[super::state::KeyPem]) -> Result<Option<Self>> {
        if saved.is_empty() {
            return Ok(None);
        }
        let keys = saved
            .iter()
            .map(SigningKey::from_pem)
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(Self { keys }))
    }

    /// The key new tokens are signed with.
    pub(crate) fn current(&self) -> &SigningKey {
        &self.keys[0]
    }

    /// Rotation: a new key takes over signing, the previous signer stays published so tokens
    /// already issued keep validating, and the oldest key is retired.
    pub(crate) fn rotate(&mut self, fresh: SigningKey) {
        self.keys.insert(0, fresh);
        self.keys.truncate(2);
    }

    /// Looks a key up by `kid`.
    pub(crate) fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The JWKS document.
    pub(crate) fn jwks(&self, issuer: &str) -> Value {
        serde_json::json!({ "keys": self.keys.iter().map(|k| k.jwk(issuer)).collect::<Vec<_>>() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_token_verifies_with_published_key_and_rotation_keeps_previous() {
        let mut set = KeySet::generate().unwrap();
        let token = set
            .current()
            .sign(&serde_json::json!({"sub": "x", "exp": 4_000_000_000u64}))
            .unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), header.x5t.as_deref());
        let jwks = set.jwks("iss");
        let jwk: Jwk = serde_json::from_value(jwks["keys"][0].clone()).unwrap();
        assert_eq!(jwks["keys"][0]["use"], "sig");
        assert_eq!(jwks["keys"][0]["kty"], "RSA");
        let key = DecodingKey::from_jwk(&jwk).unwrap();
        let mut v = jsonwebtoken::Validation::new(Algorithm::RS256);
        v.validate_aud = false;
        jsonwebtoken::decode::<Value>(&token, &key, &v).unwrap();

        let old = set.current().kid.clone();
        let retired = set.keys[1].kid.clone();
        set.rotate(SigningKey::generate("k3").unwrap());
        assert_ne!(set.current().kid, old);
        assert!(set.find(&old).is_some(), "previous signer stays published");
        assert!(set.find(&retired).is_none(), "oldest key retired");
    }
}
