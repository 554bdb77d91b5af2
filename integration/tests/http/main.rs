//! One test binary: the real `portico` binary on a free port, driven over HTTP and through
//! its command line.

mod access;
mod audit;
mod conditional_access;
mod db_copy;
mod delegation;
mod directory;
mod edge;
mod expiry;
mod federation;
mod forms;
mod graph;
mod graph_apps;
mod graph_contract;
mod graph_delegated;
mod graph_js;
mod invitations;
mod mail;
mod oidc;
mod ops;
mod owners;
mod replicas;
mod reviews;
mod second_factors;
mod security;
mod sponsors;
mod tls;
