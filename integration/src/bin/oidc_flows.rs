//! Load generator for the benchmark: full OpenID Connect code flows against a running
//! Portico, each with an existing session: authorize (PKCE, state, nonce) → code → token
//! endpoint → ID token verified with the published keys. Prints flows per second, p50 and
//! p99.
//!
//! The generator shares the machine with the server, so it verifies ID tokens with `ring`
//! (signature with the key the token names, then `iss`, `aud`, `nonce`, `exp` and `iat`):
//! the `openidconnect` crate's verifier, which the HTTP tests use, costs several times
//! more CPU per ES256 token. The first token of each run is also checked by
//! `openidconnect`, so the two verifiers are seen to agree.
//!
//! `oidc_flows <portico url> <tenant id> <client id> <client secret> <redirect uri>
//!  <session cookie value> <seconds> <concurrency>`

use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use sha2::{Digest, Sha256};

struct Target {
    url: String,
    tenant: String,
    client_id: String,
    secret: String,
    redirect: String,
    cookie: String,
    issuer: String,
    keys: HashMap<String, Key>,
}

/// A published key, by its `kid`.
enum Key {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    P256 { point: Vec<u8> },
}

/// The keys of a JWKS document.
fn keys_of(jwks: &serde_json::Value) -> HashMap<String, Key> {
    let field = |key: &serde_json::Value, name: &str| {
        URL_SAFE_NO_PAD
            .decode(key[name].as_str().unwrap_or_default())
            .unwrap_or_default()
    };
    let mut keys = HashMap::new();
    for key in jwks["keys"].as_array().into_iter().flatten() {
        let kid = key["kid"].as_str().unwrap_or_default().to_string();
        match key["kty"].as_str() {
            Some("RSA") => {
                keys.insert(
                    kid,
                    Key::Rsa {
                        n: field(key, "n"),
                        e: field(key, "e"),
                    },
                );
            }
            Some("EC") if key["crv"] == "P-256" => {
                let mut point = vec![4u8];
                point.extend(field(key, "x"));
                point.extend(field(key, "y"));
                keys.insert(kid, Key::P256 { point });
            }
            _ => {}
        }
    }
    keys
}

/// Verifies an ID token's signature with the key it names and its claims for this client
/// and nonce.
fn verify(target: &Target, token: &str, nonce: &str) -> Result<(), String> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the ID token is not a JWS in compact form".into());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|e| e.to_string());
    let header: serde_json::Value =
        serde_json::from_slice(&decode(header)?).map_err(|e| e.to_string())?;
    let signed = &token[..token.len() - signature.len() - 1];
    let signature = decode(signature)?;
    let kid = header["kid"].as_str().unwrap_or_default();
    let verified = match (header["alg"].as_str(), target.keys.get(kid)) {
        (Some("RS256"), Some(Key::Rsa { n, e })) => RsaPublicKeyComponents { n, e }.verify(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &signature,
        ),
        (Some("ES256"), Some(Key::P256 { point })) => {
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(signed.as_bytes(), &signature)
        }
        (alg, _) => return Err(format!("no published key for {alg:?} and kid {kid}")),
    };
    verified.map_err(|_| "the ID token's signature is wrong".to_string())?;
    let claims: serde_json::Value =
        serde_json::from_slice(&decode(payload)?).map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs() as i64;
    let audience_ok = match &claims["aud"] {
        serde_json::Value::String(aud) => *aud == target.client_id,
        serde_json::Value::Array(auds) => auds.iter().any(|a| *a == *target.client_id),
        _ => false,
    };
    let checks = [
        (claims["iss"] == *target.issuer, "iss"),
        (audience_ok, "aud"),
        (claims["nonce"] == nonce, "nonce"),
        (claims["exp"].as_i64().is_some_and(|exp| exp > now), "exp"),
        (
            claims["iat"].as_i64().is_some_and(|iat| iat <= now + 60),
            "iat",
        ),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, claim)) => Err(format!("the ID token's {claim} is wrong: {claims}")),
        None => Ok(()),
    }
}

const PKCE_VERIFIER: &str = "benchmark-pkce-verifier-0123456789-abcdefghijklmnop";

/// One flow; returns the ID token it got, verified.
async fn one_flow(
    http: &reqwest::Client,
    target: &Target,
    challenge: &str,
) -> Result<String, String> {
    let authorize = format!(
        "{}/{}/oauth2/v2.0/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&state=s&nonce=n&code_challenge={challenge}&code_challenge_method=S256",
        target.url,
        target.tenant,
        target.client_id,
        url::form_urlencoded::byte_serialize(target.redirect.as_bytes()).collect::<String>()
    );
    let response = http
        .get(authorize)
        .header("Cookie", format!("portico_session={}", target.cookie))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("authorize answered {}", response.status()))?;
    let code = url::Url::parse(location)
        .map_err(|e| e.to_string())?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| format!("no code in {location}"))?;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", &target.redirect)
        .append_pair("code_verifier", PKCE_VERIFIER)
        .finish();
    let tokens: serde_json::Value = http
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            target.url, target.tenant
        ))
        .basic_auth(&target.client_id, Some(&target.secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let id_token = tokens["id_token"]
        .as_str()
        .ok_or_else(|| format!("no ID token: {tokens}"))?;
    verify(target, id_token, "n")?;
    Ok(id_token.to_string())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [
        _,
        url,
        tenant,
        client_id,
        secret,
        redirect,
        cookie,
        seconds,
        concurrency,
    ] = &args[..]
    else {
        eprintln!(
            "usage: oidc_flows <url> <tenant id> <client id> <client secret> <redirect uri> <session> <seconds> <concurrency>"
        );
        std::process::exit(2);
    };
    let seconds: u64 = seconds.parse().expect("seconds");
    let concurrency: usize = concurrency.parse().expect("concurrency");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("http client");
    let jwks: serde_json::Value = http
        .get(format!("{url}/{tenant}/discovery/v2.0/keys"))
        .send()
        .await
        .expect("keys")
        .json()
        .await
        .expect("key set");
    let issuer = format!("{url}/{tenant}/v2.0");
    let target = Arc::new(Target {
        url: url.clone(),
        tenant: tenant.clone(),
        client_id: client_id.clone(),
        secret: secret.clone(),
        redirect: redirect.clone(),
        cookie: cookie.clone(),
        issuer: issuer.clone(),
        keys: keys_of(&jwks),
    });
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(PKCE_VERIFIER.as_bytes()));
    // One flow first, its token checked by the openidconnect crate as well.
    let first = one_flow(&http, &target, &challenge)
        .await
        .unwrap_or_else(|error| panic!("the first flow failed: {error}"));
    let jwks: CoreJsonWebKeySet = serde_json::from_value(jwks).expect("key set");
    let verifier = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(client_id.clone()),
        ClientSecret::new(secret.clone()),
        IssuerUrl::new(issuer).expect("issuer"),
        jwks,
    )
    // Whichever of Portico's algorithms the app asked for.
    .set_allowed_algs([
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ]);
    // And the benchmark's verifier is seen to refuse what it must.
    let mut forged = first.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).expect("ASCII");
    assert!(
        verify(&target, &forged, "n").is_err(),
        "a forged signature passed"
    );
    assert!(
        verify(&target, &first, "m").is_err(),
        "another nonce passed"
    );
    let first: CoreIdToken = first.parse().expect("an ID token");
    first
        .claims(&verifier, &Nonce::new("n".into()))
        .expect("the openidconnect crate refuses an ID token the benchmark accepted");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, target, challenge) = (http.clone(), target.clone(), challenge.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0usize;
                let mut first_error = None;
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    match one_flow(&http, &target, &challenge).await {
                        Ok(_) => latencies.push(t0.elapsed()),
                        Err(error) => {
                            failures += 1;
                            first_error.get_or_insert(error);
                        }
                    }
                }
                (latencies, failures, first_error)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = 0;
    let mut first_error = None;
    for worker in workers {
        let (l, f, e) = worker.await.expect("worker");
        latencies.extend(l);
        failures += f;
        if first_error.is_none() {
            first_error = e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "flows/s {:.1} p50 {:.2}ms p99 {:.2}ms ok {} failed {}",
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.len(),
        failures
    );
    if let Some(error) = first_error {
        eprintln!("first failure: {error}");
    }
}
