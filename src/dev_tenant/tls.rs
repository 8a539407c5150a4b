//! `--tls`: a throwaway local certificate authority and a server certificate for the listener,
//! so clients that insist on `https://` (MSAL does) can talk to the dev tenant.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

use crate::error::{Error, Result};

/// A CA certificate (to trust) and a leaf certificate chain with its key (to serve).
pub(crate) struct LocalPki {
    /// PEM of the CA certificate: what clients add to their trust store.
    pub(crate) ca_pem: String,
    /// PEM of the server's certificate followed by the CA's.
    pub(crate) chain_pem: String,
    /// PEM (PKCS#8) of the server's private key.
    pub(crate) key_pem: String,
}

/// Generates a CA valid for this run and a leaf for `localhost`, the loopback addresses and
/// `listen_ip` (when it is another address).
pub(crate) fn generate(listen_ip: IpAddr) -> Result<LocalPki> {
    let fail = |e: rcgen::Error| {
        Error::failure(format!("generating the dev tenant's TLS certificates: {e}"))
    };
    let ca_key = KeyPair::generate().map_err(fail)?;
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "azobo dev tenant local CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(fail)?;

    let mut ips: Vec<IpAddr> = vec![
        "127.0.0.1"
            .parse()
            .map_err(|_| Error::failure("bad literal"))?,
        "::1".parse().map_err(|_| Error::failure("bad literal"))?,
    ];
    if !ips.contains(&listen_ip) && !listen_ip.is_unspecified() {
        ips.push(listen_ip);
    }
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).map_err(fail)?;
    leaf.subject_alt_names
        .extend(ips.into_iter().map(SanType::IpAddress));
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().map_err(fail)?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca).map_err(fail)?;

    Ok(LocalPki {
        ca_pem: ca.pem(),
        chain_pem: format!("{}{}", leaf_cert.pem(), ca.pem()),
        key_pem: leaf_key.serialize_pem(),
    })
}
