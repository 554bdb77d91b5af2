//! Portico's pages (access panel, sign-in, first-run setup, admin console) and the server
//! functions behind them. Server functions are thin: they find out who is calling and hand
//! over to the `domain` crate, where every rule lives.

pub mod components;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use pages::admin::{
    AdminLayout, AppPage, Apps, Audit, CrossTenantAccess, ExternalCollaborationPage,
    ExternalIdentities, GroupPage, Groups, Invitations, Outbox, Policies, PolicyPage, Settings,
    SignIns, TermsOfUse, TermsPage, UserPage, Users,
};
use pages::admin::{ReviewPage, Reviews};
use pages::reviews::ReviewQueuePage;
use pages::{
    AcceptTerms, Account, Continue, Depart, InviteGuest, Manage, NotFound, Panel, Redeem,
    RedeemAccount, RedeemCode, RedeemConsent, RedeemDeclined, Security, Setup, SignIn,
    SignInWithCode, SponsorGuest, Verify,
};

/// The HTML document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    server::use_request_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="stylesheet" href="/pkg/portico.css" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <script src="/passkey.js" defer=true></script>
                <script src="/menu.js" defer=true></script>
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Portico" />
        <Router>
            <Frame />
        </Router>
    }
}

/// Marks the page live (`data-hydrated` on `main`) once the browser has run Portico's
/// WebAssembly: tests, and the islands' styles, wait for it.
#[island]
fn HydrationMark() -> impl IntoView {
    Effect::new(move |_| {
        if let Some(main) = document().get_element_by_id("main") {
            let _ = main.set_attribute("data-hydrated", "true");
        }
    });
}

/// Everything inside the router: the header that knows who is signed in, and the pages.
/// Every page renders in full before it is sent (`SsrMode::Async`), so that it works
/// without JavaScript: streamed placeholders would need a script to be filled in.
#[component]
fn Frame() -> impl IntoView {
    pages::session::provide_session();
    components::provide_rejected_form();
    view! {
            <pages::session::Header />
            <main id="main">
                <HydrationMark />
                <components::FlashMessage />
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Panel ssr=SsrMode::Async />
                    <Route path=path!("/signin") view=SignIn ssr=SsrMode::Async />
                    <Route path=path!("/signin/code") view=SignInWithCode ssr=SsrMode::Async />
                    <Route path=path!("/setup") view=Setup ssr=SsrMode::Async />
                    <Route path=path!("/continue") view=Continue ssr=SsrMode::Async />
                    <Route path=path!("/depart") view=Depart ssr=SsrMode::Async />
                    <Route path=path!("/redeem") view=Redeem ssr=SsrMode::Async />
                    <Route path=path!("/redeem/code") view=RedeemCode ssr=SsrMode::Async />
                    <Route path=path!("/redeem/account") view=RedeemAccount ssr=SsrMode::Async />
                    <Route path=path!("/account") view=Account ssr=SsrMode::Async />
                    <Route path=path!("/account/security") view=Security ssr=SsrMode::Async />
                    <Route path=path!("/account/verify") view=Verify ssr=SsrMode::Async />
                    <Route path=path!("/account/terms/:id") view=AcceptTerms ssr=SsrMode::Async />
                    <Route path=path!("/invite") view=InviteGuest ssr=SsrMode::Async />
                    <Route path=path!("/manage/:kind/:id") view=Manage ssr=SsrMode::Async />
                    <Route path=path!("/reviews/:id") view=ReviewQueuePage ssr=SsrMode::Async />
                    <Route path=path!("/sponsor/:id") view=SponsorGuest ssr=SsrMode::Async />
                    <Route path=path!("/redeem/consent") view=RedeemConsent ssr=SsrMode::Async />
                    <Route path=path!("/redeem/declined") view=RedeemDeclined ssr=SsrMode::Async />
                    <ParentRoute path=path!("/admin") view=AdminLayout ssr=SsrMode::Async>
                        <Route path=path!("") view=|| view! { <Redirect path="/admin/users" /> } ssr=SsrMode::Async />
                        <Route path=path!("users") view=Users ssr=SsrMode::Async />
                        <Route path=path!("users/:id") view=UserPage ssr=SsrMode::Async />
                        <Route path=path!("groups") view=Groups ssr=SsrMode::Async />
                        <Route path=path!("groups/:id") view=GroupPage ssr=SsrMode::Async />
                        <Route path=path!("apps") view=Apps ssr=SsrMode::Async />
                        <Route path=path!("apps/:id") view=AppPage ssr=SsrMode::Async />
                        <Route path=path!("audit") view=Audit ssr=SsrMode::Async />
                        <Route path=path!("sign-ins") view=SignIns ssr=SsrMode::Async />
                        <Route path=path!("invitations") view=Invitations ssr=SsrMode::Async />
                        <Route path=path!("outbox") view=Outbox ssr=SsrMode::Async />
                        <Route path=path!("settings") view=Settings ssr=SsrMode::Async />
                        <Route path=path!("external-identities") view=ExternalIdentities ssr=SsrMode::Async />
                        <Route path=path!("external-collaboration") view=ExternalCollaborationPage ssr=SsrMode::Async />
                        <Route path=path!("reviews") view=Reviews ssr=SsrMode::Async />
                        <Route path=path!("reviews/:id") view=ReviewPage ssr=SsrMode::Async />
                        <Route path=path!("security/conditional-access") view=Policies ssr=SsrMode::Async />
                        <Route path=path!("security/conditional-access/:id") view=PolicyPage ssr=SsrMode::Async />
                        <Route path=path!("security/terms-of-use") view=TermsOfUse ssr=SsrMode::Async />
                        <Route path=path!("security/terms-of-use/:id") view=TermsPage ssr=SsrMode::Async />
                        <Route path=path!("security/cross-tenant-access") view=CrossTenantAccess ssr=SsrMode::Async />
                    </ParentRoute>
                </Routes>
            </main>
    }
}
