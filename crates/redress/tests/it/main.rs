//! The integration suite: one binary, run on SQLite and, when `REDRESS_TEST_POSTGRES_URL` names
//! a server, on PostgreSQL too.

mod support;

mod api_errors;
mod api_lifecycle;
mod bad_input;
mod cli;
mod crash;
mod leaks;
mod permissions;
mod store_story;
mod text;
mod two_servers;
