//! The integration suite: one binary, run on SQLite and, when `REDRESS_TEST_POSTGRES_URL` names
//! a server, on PostgreSQL too.

mod support;

mod admin_pages;
mod api_errors;
mod analytics_api;
mod analytics_pages;
mod api_lifecycle;
mod bad_input;
mod channel_imports;
mod browser;
mod browser_story;
mod cli;
mod crash;
mod customer_pages;
mod delivery;
mod intake_pages;
mod leaks;
mod mail_intake;
mod mail_servers;
mod permissions;
mod report_pages;
mod stats_recount;
mod store_stats;
mod store_story;
mod store_web;
mod text;
mod screenshots;
mod two_servers;
mod webhooks;
