//! Load generator for the benchmark: full OpenID Connect code flows against a running
//! Portico, each with an existing session: authorize (PKCE, state, nonce) → code → token
//! endpoint → ID token verified with the published keys. Prints flows per second, p50 and
//! p99.
//!
//! `oidc_flows <portico url> <tenant id> <client id> <client secret> <redirect uri>
//!  <session cookie value> <seconds> <concurrency>`

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};
use sha2::{Digest, Sha256};

struct Target {
    url: String,
    tenant: String,
    client_id: String,
    secret: String,
    redirect: String,
    cookie: String,
    verifier: CoreIdTokenVerifier<'static>,
}

const PKCE_VERIFIER: &str = "benchmark-pkce-verifier-0123456789-abcdefghijklmnop";

async fn one_flow(http: &reqwest::Client, target: &Target, challenge: &str) -> Result<(), String> {
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
    let id_token: CoreIdToken = tokens["id_token"]
        .as_str()
        .ok_or_else(|| format!("no ID token: {tokens}"))?
        .parse()
        .map_err(|e| format!("{e:?}"))?;
    id_token
        .claims(&target.verifier, &Nonce::new("n".into()))
        .map_err(|e| e.to_string())?;
    Ok(())
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
    let jwks: CoreJsonWebKeySet = http
        .get(format!("{url}/{tenant}/discovery/v2.0/keys"))
        .send()
        .await
        .expect("keys")
        .json()
        .await
        .expect("key set");
    let verifier = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(client_id.clone()),
        ClientSecret::new(secret.clone()),
        IssuerUrl::new(format!("{url}/{tenant}/v2.0")).expect("issuer"),
        jwks,
    )
    // Whichever of Portico's algorithms the app asked for.
    .set_allowed_algs([
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ]);
    let target = Arc::new(Target {
        url: url.clone(),
        tenant: tenant.clone(),
        client_id: client_id.clone(),
        secret: secret.clone(),
        redirect: redirect.clone(),
        cookie: cookie.clone(),
        verifier,
    });
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(PKCE_VERIFIER.as_bytes()));
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
                        Ok(()) => latencies.push(t0.elapsed()),
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
