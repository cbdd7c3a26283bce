//! `redress complaint`: what the API offers, for a person at a terminal. Commands act as a
//! named user (`--as NAME`), with that user's role and department.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use redress_app::complaints::{self, ListParams};
use redress_app::input::{ACTIONS, NewComplaintBody, parse_action};
use redress_app::view::complaint_view;
use redress_app::{App, Caller};
use redress_store::Registered;

use crate::cli_error::app_error;
use serde_json::{Map, Value, json};

/// Complaint commands.
#[derive(Subcommand)]
pub enum ComplaintCommand {
    /// Register a complaint from JSON (the same body as POST /api/v1/complaints) or from flags.
    New {
        /// Act as this user.
        #[arg(long = "as")]
        as_user: String,
        /// Read the complaint as JSON from this file ('-' for standard input).
        #[arg(long, conflicts_with_all = ["name", "narrative"])]
        json: Option<PathBuf>,
        /// Channel: hotline, email, web, app, social_media, letter, branch, regulator.
        #[arg(long, default_value = "hotline")]
        channel: String,
        /// Complainant's name.
        #[arg(long)]
        name: Option<String>,
        /// Complainant's phone.
        #[arg(long)]
        phone: Option<String>,
        /// Complainant's ID number.
        #[arg(long)]
        id_number: Option<String>,
        /// Respondent unit code (default: the head office).
        #[arg(long)]
        unit: Option<String>,
        /// Product.
        #[arg(long)]
        product: Option<String>,
        /// Amount in dispute (decimal) …
        #[arg(long)]
        amount: Option<String>,
        /// … and its currency.
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// What the complainant asks for.
        #[arg(long)]
        request: Option<String>,
        /// What happened.
        #[arg(long)]
        narrative: Option<String>,
    },
    /// Show one complaint (by id or number).
    Show {
        /// Act as this user.
        #[arg(long = "as")]
        as_user: String,
        /// Id or number.
        id: String,
    },
    /// List the newest complaints.
    List {
        /// Act as this user.
        #[arg(long = "as")]
        as_user: String,
        /// Only these statuses (comma-separated).
        #[arg(long)]
        status: Option<String>,
        /// Only this department.
        #[arg(long)]
        department: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Show a complaint's history.
    History {
        /// Act as this user.
        #[arg(long = "as")]
        as_user: String,
        /// Id or number.
        id: String,
    },
    /// Attach a file (PDF, image, audio recording, Word/Excel, text) to a complaint.
    Attach {
        /// Act as this user.
        #[arg(long = "as")]
        as_user: String,
        /// Id or number.
        id: String,
        /// The file.
        file: PathBuf,
    },
    /// Perform a lifecycle action: accept, decline, assign, transfer, start-investigation, pause,
    /// resume, propose-resolution, approve-resolution, reject-resolution, decide, follow-up,
    /// close, reopen, request-review, archive, merge, withdraw, request-extension,
    /// decide-extension, new-facts, notes, classification, escalate.
    Act {
        /// Act as this user.
        #[arg(long = "as")]
        as_user: String,
        /// Id or number.
        id: String,
        /// The action.
        action: String,
        /// Fields of the action as KEY=VALUE (e.g. reason=…); 'true'/'false' become booleans,
        /// KEY.SUB=VALUE nests (amount.amount=100).
        #[arg(value_name = "KEY=VALUE")]
        fields: Vec<String>,
    },
}

/// The named user as the caller of the command's use cases.
async fn caller(st: &App, name: &str) -> anyhow::Result<Caller> {
    let user = st.store.user_by_name(name).await?.with_context(|| format!("no user named '{name}' (create one with 'redress user add')"))?;
    if !user.active {
        bail!("user '{name}' is inactive");
    }
    Ok(Caller::new(user))
}

fn fields_to_json(fields: &[String]) -> anyhow::Result<Value> {
    let mut root = Map::new();
    for f in fields {
        let (k, v) = f.split_once('=').with_context(|| format!("'{f}' is not KEY=VALUE"))?;
        let value = match v {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(v.to_string()),
        };
        match k.split_once('.') {
            Some((outer, inner)) => {
                let entry = root.entry(outer.to_string()).or_insert_with(|| Value::Object(Map::new()));
                entry.as_object_mut().with_context(|| format!("'{outer}' is used both as a value and as an object"))?.insert(inner.to_string(), value);
            }
            None if k == "remedies" => {
                root.insert(k.to_string(), Value::Array(v.split(',').map(|r| Value::String(r.trim().to_string())).collect()));
            }
            None => {
                root.insert(k.to_string(), value);
            }
        }
    }
    Ok(Value::Object(root))
}

fn print(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Runs a complaint command.
pub async fn run(cmd: ComplaintCommand, st: &App) -> anyhow::Result<()> {
    match cmd {
        ComplaintCommand::New { as_user, json, channel, name, phone, id_number, unit, product, amount, currency, request, narrative } => {
            let caller = caller(st, &as_user).await?;
            let body: Vec<u8> = match json {
                Some(path) if path.as_os_str() == "-" => {
                    let mut b = Vec::new();
                    std::io::stdin().read_to_end(&mut b)?;
                    b
                }
                Some(path) => std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
                None => {
                    let (Some(name), Some(narrative)) = (name, narrative) else {
                        bail!("give --json FILE, or at least --name and --narrative");
                    };
                    serde_json::to_vec(&json!({
                        "channel": channel,
                        "complainant": { "name": name, "phone": phone, "id_number": id_number },
                        "respondent": unit.map(|u| json!({ "unit": u })),
                        "product": product,
                        "amount": amount.map(|a| json!({ "amount": a, "currency": currency })),
                        "request": request.unwrap_or_else(|| "请依法处理".into()),
                        "narrative": narrative,
                    }))?
                }
            };
            let wire: NewComplaintBody = redress_app::json::parse_json(&body).map_err(app_error)?;
            let new = wire.into_domain(st.clock.now(), &st.rules.org.head_office().code).map_err(|e| app_error(e.into()))?;
            let registered = complaints::register(st, &caller, new, None).await.map_err(app_error)?;
            if let Registered::Replayed(c) = &registered {
                eprintln!("already registered as {}", c.number);
            }
            print(&complaint_view(registered.complaint()).map_err(app_error)?)?;
        }
        ComplaintCommand::Show { as_user, id } => {
            let caller = caller(st, &as_user).await?;
            let c = complaints::get(st, &caller, &id).await.map_err(app_error)?;
            print(&complaint_view(&c).map_err(app_error)?)?;
        }
        ComplaintCommand::List { as_user, status, department, limit } => {
            let caller = caller(st, &as_user).await?;
            let params = ListParams { status, department, limit: Some(limit.clamp(1, 200).to_string()), ..Default::default() };
            let page = complaints::list(st, &caller, &params).await.map_err(app_error)?;
            for s in page.items {
                println!(
                    "{}  {:<19} {:<10} {:<10} {:<12} {}  {}",
                    s.number,
                    s.status.as_str(),
                    s.department,
                    s.phone.as_deref().unwrap_or("-"),
                    s.decide_by.map(|d| d.strftime("%Y-%m-%d").to_string()).unwrap_or_else(|| "-".into()),
                    s.complainant,
                    s.title
                );
            }
        }
        ComplaintCommand::History { as_user, id } => {
            let caller = caller(st, &as_user).await?;
            let (_, events) = complaints::history(st, &caller, &id).await.map_err(app_error)?;
            for e in events {
                println!(
                    "{:>3} {}  {:<22} {:<20} {} → {}  {}",
                    e.seq,
                    e.event.at.strftime("%Y-%m-%d %H:%M:%S"),
                    e.event.action.as_str(),
                    e.event.actor.name,
                    e.event.from_status.map(|s| s.as_str()).unwrap_or("-"),
                    e.event.to_status.as_str(),
                    e.event.reason.as_deref().unwrap_or("")
                );
            }
        }
        ComplaintCommand::Attach { as_user, id, file } => {
            let caller = caller(st, &as_user).await?;
            let content = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let filename = file.file_name().and_then(|n| n.to_str()).context("the file name is not valid UTF-8")?;
            let (_, c) = complaints::attach(st, &caller, &id, filename, &content).await.map_err(app_error)?;
            println!("{} now has {} attachment(s)", c.number, c.attachments.len());
        }
        ComplaintCommand::Act { as_user, id, action, fields } => {
            if !ACTIONS.contains(&action.as_str()) {
                bail!("unknown action '{action}'; one of: {}", ACTIONS.join(", "));
            }
            let caller = caller(st, &as_user).await?;
            let body = serde_json::to_vec(&fields_to_json(&fields)?)?;
            let action = parse_action(&action, &body).map_err(app_error)?;
            let c = complaints::perform(st, &caller, &id, action).await.map_err(app_error)?;
            println!("{} is now {}", c.number, c.status.as_str());
        }
    }
    Ok(())
}
