//! A self-service sign-up portal for an organization's partners, built only on Portico's
//! public interfaces: its Microsoft Graph-compatible API (as the portal's own app, with a
//! `client_credentials` token) and OpenID Connect (approvers sign in through Portico, code
//! flow with PKCE). A partner asks for access; a domain rule approves it at once or it
//! waits for an approver, a member of a group in Portico; approval invites the partner
//! through `POST /v1.0/invitations` and adds them to the rule's groups.

mod config;
mod graph;
mod mail;
mod rules;
mod store;
mod web;

use std::collections::HashMap;
use std::sync::Arc;

use clap::Parser;
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, RedirectUrl};

use config::Config;
use rules::Rules;

#[tokio::main]
async fn main() {
    let config = Config::parse();
    match start(config).await {
        Ok(()) => {}
        Err(e) => {
            eprintln!("signup-portal: {e}");
            std::process::exit(1);
        }
    }
}

async fn start(config: Config) -> Result<(), String> {
    let rules_text = std::fs::read_to_string(&config.rules)
        .map_err(|e| format!("cannot read the rules file {}: {e}", config.rules.display()))?;
    let rules = Rules::parse(&rules_text).map_err(|problems| {
        format!(
            "the rules file {} is not right:\n  {}",
            config.rules.display(),
            problems.join("\n  ")
        )
    })?;
    if config.organization.trim().is_empty()
        || config.organization.chars().count() > rules::ORGANIZATION_LIMIT
    {
        return Err(format!(
            "--organization: give the organization's name, in {} characters or fewer",
            rules::ORGANIZATION_LIMIT
        ));
    }
    let mailer = mail::Mailer::new(&config)?;
    let store = store::Store::open(&config.database).await?;
    let portico = config.portico_url.trim_end_matches('/').to_string();
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen))
        .trim_end_matches('/')
        .to_string();

    // Never follow redirects from Portico: the portal only talks to the addresses it knows.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let issuer = IssuerUrl::new(format!("{portico}/{}/v2.0", config.tenant))
        .map_err(|e| format!("--portico-url: {e}"))?;
    let metadata = CoreProviderMetadata::discover_async(issuer.clone(), &http)
        .await
        .map_err(|e| format!("cannot read Portico's OpenID configuration at {issuer}: {e}"))?;
    let token_endpoint = metadata
        .token_endpoint()
        .ok_or("Portico's OpenID configuration names no token endpoint")?
        .to_string();
    let oidc = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        Some(ClientSecret::new(config.client_secret.clone())),
    )
    .set_redirect_uri(
        RedirectUrl::new(format!("{public_url}/callback")).map_err(|e| e.to_string())?,
    );
    let graph = graph::Graph::new(
        &portico,
        &token_endpoint,
        &config.client_id,
        &config.client_secret,
        http.clone(),
    );

    // Every group the configuration names must be in Portico, and readable by the app.
    let groups = graph
        .groups()
        .await
        .map_err(|e| format!("cannot list Portico's groups: {e}"))?;
    let approvers = graph::find_group(&groups, &config.approvers_group)
        .map_err(|e| format!("--approvers-group: {e}"))?
        .to_string();
    let mut group_ids = HashMap::new();
    for name in rules.groups() {
        let id = graph::find_group(&groups, name)
            .map_err(|e| format!("the rules file {}: {e}", config.rules.display()))?;
        group_ids.insert(name.to_string(), id.to_string());
    }

    let app = web::App(Arc::new(web::Inner {
        organization: config.organization.clone(),
        public_url: public_url.clone(),
        invite_redirect: config
            .invite_redirect_url
            .clone()
            .unwrap_or_else(|| format!("{portico}/")),
        terms_url: config.terms_url.clone(),
        rules,
        group_ids,
        approvers,
        graph,
        store,
        mailer,
        oidc,
        http,
        logins: Default::default(),
        deciding: Default::default(),
    }));
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    println!("Sign-up portal listening on {public_url}");
    axum::serve(listener, web::router(app))
        .await
        .map_err(|e| e.to_string())
}
