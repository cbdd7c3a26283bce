//! Who may see and do what: the one place that decides it.
//!
//! Every use case that returns or reveals a complaint asks [`can_see`] or
//! [`visible_departments`]; every action on a complaint asks [`check_action`]. The table is
//! [`grant`]: for a role and an operation, how far the permission reaches:
//!
//! - **own**: complaints owned by the caller's department;
//! - **overseen**: complaints owned by a department of a unit that the caller's
//!   consumer-protection department oversees (its own unit and the units below it); only a
//!   department head of a consumer-protection department reaches these, which is how reviews,
//!   superior-level approvals and escalations reach the level above;
//! - **any**: every complaint.
//!
//! `docs/PERMISSIONS.md` shows the table; a test keeps it equal to [`markdown_table`].

use redress_domain::complaint::{Action, Complaint};
use redress_domain::org::{Organisation, Role};

use crate::caller::Caller;
use crate::error::{AppError, AppResult};

/// How a complaint relates to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Owned by the caller's department.
    Own,
    /// Owned by a department the caller's consumer-protection department oversees.
    Overseen,
    /// Anything else.
    Other,
}

/// How far a permission reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Not at all.
    None,
    /// Complaints of the caller's own department.
    Own,
    /// Own and overseen complaints.
    Overseen,
    /// Every complaint.
    Any,
}

impl Grant {
    /// Whether the grant covers a complaint in this scope.
    pub fn covers(self, scope: Scope) -> bool {
        match self {
            Grant::None => false,
            Grant::Own => scope == Scope::Own,
            Grant::Overseen => scope != Scope::Other,
            Grant::Any => true,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Grant::None => "–",
            Grant::Own => "own",
            Grant::Overseen => "own + overseen",
            Grant::Any => "any",
        }
    }
}

/// Everything the permission table decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// See a complaint (record, history, messages, attachments, reading, similar, search hits,
    /// incident members, notifications about it).
    See,
    /// Register a new complaint.
    Register,
    /// Accept (受理).
    Accept,
    /// Decline with a profile reason.
    Decline,
    /// Give to a handler.
    Assign,
    /// Move to another department or handler.
    Transfer,
    /// Start investigating.
    StartInvestigation,
    /// Pause the clock.
    Pause,
    /// Resume the clock.
    Resume,
    /// Propose a resolution.
    ProposeResolution,
    /// Approve a resolution above the profile's approval threshold (the supervisor level).
    ApproveResolution,
    /// Send a proposed resolution back.
    RejectResolution,
    /// Decide and notify the customer.
    Decide,
    /// Record the follow-up call (回访).
    RecordFollowUp,
    /// Close.
    Close,
    /// Reopen.
    Reopen,
    /// Record the customer's application for review (核查).
    RequestReview,
    /// Archive.
    Archive,
    /// Merge into another complaint.
    Merge,
    /// Record the complainant's withdrawal.
    Withdraw,
    /// Ask for an extension.
    RequestExtension,
    /// Approve or refuse an extension.
    DecideExtension,
    /// Record new facts.
    NewFacts,
    /// Add a note.
    AddNote,
    /// Attach a file.
    Attach,
    /// Correct a classification label.
    CorrectClassification,
    /// Escalate.
    Escalate,
    /// See the complainant's full phone and ID number (recorded in the history).
    RevealContact,
    /// See incidents.
    ViewIncidents,
    /// See the statistics (analysis, hotspots, scorecards, reports) of the departments in reach,
    /// and a complainant's profile built from the complaints the caller may see.
    ViewStatistics,
    /// Write the institution's commentary into a report (the quarterly supervision report).
    CommentReports,
    /// See user accounts.
    ViewUsers,
    /// Create and change user accounts.
    ManageUsers,
    /// See trained models.
    ViewModels,
    /// Train and activate models.
    ManageModels,
    /// Bulk imports.
    Import,
    /// Run the background jobs by hand (deadline sweep, incident detection, reindexing).
    RunJobs,
}

impl Operation {
    /// Every operation, in the order of the documented table.
    pub const ALL: [Operation; 37] = [
        Operation::See,
        Operation::Register,
        Operation::Accept,
        Operation::Decline,
        Operation::Assign,
        Operation::Transfer,
        Operation::StartInvestigation,
        Operation::Pause,
        Operation::Resume,
        Operation::ProposeResolution,
        Operation::ApproveResolution,
        Operation::RejectResolution,
        Operation::Decide,
        Operation::RecordFollowUp,
        Operation::Close,
        Operation::Reopen,
        Operation::RequestReview,
        Operation::Archive,
        Operation::Merge,
        Operation::Withdraw,
        Operation::RequestExtension,
        Operation::DecideExtension,
        Operation::NewFacts,
        Operation::AddNote,
        Operation::Attach,
        Operation::CorrectClassification,
        Operation::Escalate,
        Operation::RevealContact,
        Operation::ViewIncidents,
        Operation::ViewStatistics,
        Operation::CommentReports,
        Operation::ViewUsers,
        Operation::ManageUsers,
        Operation::ViewModels,
        Operation::ManageModels,
        Operation::Import,
        Operation::RunJobs,
    ];

    /// The name used in the API and the documentation.
    pub fn as_str(self) -> &'static str {
        use Operation as O;
        match self {
            O::See => "see",
            O::Register => "register",
            O::Accept => "accept",
            O::Decline => "decline",
            O::Assign => "assign",
            O::Transfer => "transfer",
            O::StartInvestigation => "start-investigation",
            O::Pause => "pause",
            O::Resume => "resume",
            O::ProposeResolution => "propose-resolution",
            O::ApproveResolution => "approve-resolution",
            O::RejectResolution => "reject-resolution",
            O::Decide => "decide",
            O::RecordFollowUp => "follow-up",
            O::Close => "close",
            O::Reopen => "reopen",
            O::RequestReview => "request-review",
            O::Archive => "archive",
            O::Merge => "merge",
            O::Withdraw => "withdraw",
            O::RequestExtension => "request-extension",
            O::DecideExtension => "decide-extension",
            O::NewFacts => "new-facts",
            O::AddNote => "notes",
            O::Attach => "attach",
            O::CorrectClassification => "classification",
            O::Escalate => "escalate",
            O::RevealContact => "reveal-contact",
            O::ViewIncidents => "view incidents",
            O::ViewStatistics => "view statistics",
            O::CommentReports => "comment reports",
            O::ViewUsers => "view users",
            O::ManageUsers => "manage users",
            O::ViewModels => "view models",
            O::ManageModels => "train and activate models",
            O::Import => "import files",
            O::RunJobs => "run jobs by hand",
        }
    }

    /// The operation an action on a complaint needs; `None` for the system's own actions
    /// (marking due states), which no person performs.
    pub fn of_action(action: &Action) -> Option<Operation> {
        use Operation as O;
        Some(match action {
            Action::Accept => O::Accept,
            Action::Decline { .. } => O::Decline,
            Action::Assign { .. } => O::Assign,
            Action::Transfer { .. } => O::Transfer,
            Action::StartInvestigation => O::StartInvestigation,
            Action::Pause { .. } => O::Pause,
            Action::Resume => O::Resume,
            Action::ProposeResolution { .. } => O::ProposeResolution,
            Action::ApproveResolution => O::ApproveResolution,
            Action::RejectResolution { .. } => O::RejectResolution,
            Action::Decide { .. } => O::Decide,
            Action::RecordFollowUp { .. } => O::RecordFollowUp,
            Action::Close => O::Close,
            Action::Reopen { .. } => O::Reopen,
            Action::RequestReview { .. } => O::RequestReview,
            Action::Archive => O::Archive,
            Action::MergeInto { .. } => O::Merge,
            Action::Withdraw { .. } => O::Withdraw,
            Action::RequestExtension { .. } => O::RequestExtension,
            Action::DecideExtension { .. } => O::DecideExtension,
            Action::NewFacts { .. } => O::NewFacts,
            Action::AddNote { .. } => O::AddNote,
            Action::Attach { .. } => O::Attach,
            Action::CorrectClassification { .. } => O::CorrectClassification,
            Action::Escalate { .. } => O::Escalate,
            Action::RevealContact => O::RevealContact,
            Action::MarkDue { .. } => return None,
        })
    }
}

/// The permission table: how far `role`'s permission for `op` reaches.
pub fn grant(role: Role, op: Operation) -> Grant {
    use Grant as G;
    use Operation as O;
    match role {
        Role::Admin => G::Any,
        Role::Supervisor => match op {
            O::ManageUsers | O::ManageModels | O::RunJobs => G::None,
            _ => G::Any,
        },
        Role::Auditor => match op {
            O::See | O::RevealContact | O::ViewIncidents | O::ViewStatistics | O::ViewUsers | O::ViewModels => G::Any,
            _ => G::None,
        },
        // The hotline and the branch counter: they take complaints and calls about any of
        // them, but neither handle nor end them.
        Role::IntakeAgent => match op {
            O::See
            | O::Register
            | O::Import
            | O::Accept
            | O::Decline
            | O::RecordFollowUp
            | O::RequestReview
            | O::NewFacts
            | O::AddNote
            | O::Attach
            | O::Escalate
            | O::RevealContact => G::Any,
            _ => G::None,
        },
        Role::Handler => match op {
            O::Register => G::Any,
            O::See
            | O::Accept
            | O::Transfer
            | O::StartInvestigation
            | O::Pause
            | O::Resume
            | O::ProposeResolution
            | O::Decide
            | O::RecordFollowUp
            | O::Close
            | O::Reopen
            | O::RequestReview
            | O::Merge
            | O::Withdraw
            | O::RequestExtension
            | O::NewFacts
            | O::AddNote
            | O::Attach
            | O::CorrectClassification
            | O::Escalate
            | O::RevealContact
            | O::ViewStatistics => G::Own,
            _ => G::None,
        },
        Role::DepartmentHead => match op {
            O::Register => G::Any,
            // A resolution above the profile's approval threshold is approved by the head of
            // the department that owns it (maker-checker) or by a supervisor.
            O::ViewUsers | O::ManageUsers | O::ViewModels | O::ManageModels | O::Import | O::RunJobs | O::CommentReports => G::None,
            O::ViewIncidents => G::Overseen,
            _ => G::Overseen,
        },
    }
}

/// How the complaint owned by `department` relates to the caller.
pub fn scope(caller: &Caller, department: &str, org: &Organisation) -> Scope {
    let Some(mine) = caller.department() else { return Scope::Other };
    if mine == department {
        return Scope::Own;
    }
    let overseen = org.department(mine).filter(|d| d.consumer_protection).is_some_and(|cp| {
        org.department(department).is_some_and(|owner| org.is_within(&owner.unit, &cp.unit))
    });
    if overseen { Scope::Overseen } else { Scope::Other }
}

/// Whether the caller may do `op` on a complaint owned by `department`.
pub fn permits(caller: &Caller, op: Operation, department: &str, org: &Organisation) -> bool {
    grant(caller.role(), op).covers(scope(caller, department, org))
}

/// Whether the caller may see a complaint.
pub fn can_see(caller: &Caller, c: &Complaint, org: &Organisation) -> bool {
    permits(caller, Operation::See, &c.owner.department, org)
}

/// The departments whose complaints the caller may see; `None` means all of them.
pub fn visible_departments(caller: &Caller, org: &Organisation) -> Option<Vec<String>> {
    if grant(caller.role(), Operation::See) == Grant::Any {
        return None;
    }
    Some(org.departments().iter().filter(|d| permits(caller, Operation::See, &d.code, org)).map(|d| d.code.clone()).collect())
}

/// The departments whose statistics the caller may see; `None` means all of them. Refused
/// when the role sees none.
pub fn statistics_departments(caller: &Caller, org: &Organisation) -> AppResult<Option<Vec<String>>> {
    require(caller, Operation::ViewStatistics)?;
    if grant(caller.role(), Operation::ViewStatistics) == Grant::Any {
        return Ok(None);
    }
    Ok(Some(org.departments().iter().filter(|d| permits(caller, Operation::ViewStatistics, &d.code, org)).map(|d| d.code.clone()).collect()))
}

/// Refuses an operation that does not concern one complaint (users, models, imports…) unless
/// the caller's role has it.
pub fn require(caller: &Caller, op: Operation) -> AppResult<()> {
    if grant(caller.role(), op) == Grant::None {
        return Err(AppError::forbidden(format!("the role {} may not {}", caller.role().as_str(), op.as_str())));
    }
    Ok(())
}

/// Whether the caller may take `action` on `c` (which they can see). Rules about particular
/// persons (the proposer may not approve their own resolution) stay with the record in the
/// domain; this decides by role, department and level.
pub fn check_action(caller: &Caller, c: &Complaint, action: &Action, org: &Organisation) -> AppResult<()> {
    let Some(op) = Operation::of_action(action) else {
        return Err(AppError::forbidden("only the system marks due states"));
    };
    if !permits(caller, op, &c.owner.department, org) {
        return Err(AppError::forbidden(format!(
            "the role {} may not {} a complaint of department {}",
            caller.role().as_str(),
            op.as_str(),
            c.owner.department
        )));
    }
    // An extension that needs a superior level is approved one level up: by the
    // consumer-protection department above the owner, or by the supervisor level.
    if let Action::DecideExtension { approve: true, .. } = action
        && c.clock.pending_extension.as_ref().is_some_and(|p| p.needs_superior)
        && caller.role() == Role::DepartmentHead
    {
        let superior = &org.superior_department(&c.owner.department).code;
        if caller.department() != Some(superior.as_str()) {
            return Err(AppError::forbidden(format!("this extension needs approval at a superior level ({superior}) or by a supervisor")));
        }
    }
    Ok(())
}

/// The table as Markdown: roles across, operations down.
pub fn markdown_table() -> String {
    let roles = [Role::IntakeAgent, Role::Handler, Role::DepartmentHead, Role::Supervisor, Role::Auditor, Role::Admin];
    let mut out = String::from("| operation |");
    for r in roles {
        out.push_str(&format!(" {} |", r.as_str()));
    }
    out.push_str("\n|---|");
    for _ in roles {
        out.push_str("---|");
    }
    out.push('\n');
    for op in Operation::ALL {
        out.push_str(&format!("| {} |", op.as_str()));
        for r in roles {
            out.push_str(&format!(" {} |", grant(r, op).label()));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use redress_store::User;

    fn caller(role: Role, department: Option<&str>) -> Caller {
        Caller::new(User { id: "u".into(), name: "u".into(), role, department: department.map(str::to_string), active: true, open_load: 0, language: None })
    }

    #[test]
    fn the_documented_table_is_the_table_in_force() {
        let doc = include_str!("../../../docs/PERMISSIONS.md");
        assert!(doc.contains(&markdown_table()), "docs/PERMISSIONS.md differs from policy::markdown_table(); paste it in:\n{}", markdown_table());
    }

    #[test]
    fn scopes_follow_the_hierarchy() {
        let org = Organisation::builtin();
        let sh_cp = caller(Role::DepartmentHead, Some("SH-CP"));
        assert_eq!(scope(&sh_cp, "SH-CP", &org), Scope::Own);
        assert_eq!(scope(&sh_cp, "SH-CARD", &org), Scope::Overseen);
        assert_eq!(scope(&sh_cp, "HO-CARD", &org), Scope::Other);
        let ho_cp = caller(Role::DepartmentHead, Some("HO-CP"));
        assert_eq!(scope(&ho_cp, "SH-CARD", &org), Scope::Overseen);
        // A department that is not consumer protection oversees nobody.
        let sh_card = caller(Role::DepartmentHead, Some("SH-CARD"));
        assert_eq!(scope(&sh_card, "SH-CP", &org), Scope::Other);
        assert_eq!(scope(&caller(Role::Supervisor, None), "SH-CARD", &org), Scope::Other);
    }

    #[test]
    fn handlers_reach_their_own_department_only() {
        let org = Organisation::builtin();
        let h = caller(Role::Handler, Some("SH-CARD"));
        assert!(permits(&h, Operation::Decide, "SH-CARD", &org));
        assert!(!permits(&h, Operation::Decide, "GZ-CP", &org));
        assert!(!permits(&h, Operation::Assign, "SH-CARD", &org));
        assert_eq!(visible_departments(&h, &org), Some(vec!["SH-CARD".to_string()]));
    }

    #[test]
    fn intake_agents_take_calls_but_neither_withdraw_nor_handle() {
        let org = Organisation::builtin();
        let a = caller(Role::IntakeAgent, None);
        assert!(permits(&a, Operation::AddNote, "SH-CARD", &org));
        assert!(!permits(&a, Operation::Withdraw, "SH-CARD", &org));
        assert!(!permits(&a, Operation::Decide, "SH-CARD", &org));
    }

    #[test]
    fn auditors_only_read() {
        for op in Operation::ALL {
            let g = grant(Role::Auditor, op);
            let reads = matches!(op, Operation::See | Operation::RevealContact | Operation::ViewIncidents | Operation::ViewStatistics | Operation::ViewUsers | Operation::ViewModels);
            assert_eq!(g != Grant::None, reads, "{op:?}");
        }
    }
}
