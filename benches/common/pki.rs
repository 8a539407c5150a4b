//! A throwaway CA and a server certificate for 127.0.0.1 (and `localhost`), as PEM files: TLS on
//! loopback that serve-api trusts through `SSL_CERT_FILE` (the approach of `local_pki()` in
//! tests/it/scale_out.rs, which benches cannot import).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    SanType,
};

fn named(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

/// Where `local_pki` wrote its files.
pub struct Pki {
    /// The CA certificate (what a client trusts).
    pub ca: PathBuf,
    /// The leaf certificate followed by the CA's (what a server presents).
    pub chain: PathBuf,
    /// The leaf's private key.
    pub key: PathBuf,
}

/// Writes `ca.pem`, `chain.pem` and `key.pem` into `dir`. The leaf names IP 127.0.0.1 and DNS
/// `localhost` (nginx checks an upstream's certificate by host name only).
pub fn local_pki(dir: &Path) -> Pki {
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    // Distinct names: OpenSSL (nginx) takes a leaf named like its issuer for a self-signed one.
    ca.distinguished_name = named("azobo bench CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key")).expect("CA");
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).expect("leaf params");
    leaf.distinguished_name = named("localhost");
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().expect("IP")));
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = leaf.signed_by(&leaf_key, &ca).expect("leaf");
    let pki = Pki {
        ca: dir.join("ca.pem"),
        chain: dir.join("chain.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&pki.ca, ca.pem()).expect("write ca.pem");
    std::fs::write(&pki.chain, format!("{}{}", leaf.pem(), ca.pem())).expect("write chain.pem");
    std::fs::write(&pki.key, leaf_key.serialize_pem()).expect("write key.pem");
    pki
}
