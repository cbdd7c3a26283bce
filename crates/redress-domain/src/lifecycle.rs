//! The states of a complaint and the transitions between them.
//!
//! The table in [`Status::allows`] is the single source of truth: the API, the CLI and the
//! scheduler all go through [`crate::complaint::Complaint::apply`], which refuses anything the
//! table does not list.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a complaint stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Registered, not yet accepted (受理).
    Received,
    /// Accepted; owned by a department, no handler yet.
    Accepted,
    /// Declined with a reason the profile allows. Final.
    Declined,
    /// A handler owns it.
    Assigned,
    /// The handler is investigating.
    Investigating,
    /// The clock is paused (external appraisal, customer's materials).
    Waiting,
    /// A resolution is proposed.
    ResolutionProposed,
    /// The proposed resolution waits for a second person's approval (maker-checker).
    AwaitingApproval,
    /// Decided and the customer notified; follow-up pending.
    Decided,
    /// Under review (核查) on the customer's application.
    UnderReview,
    /// Closed after follow-up.
    Closed,
    /// Archived: the complete record kept for the retention period.
    Archived,
    /// Merged into another open complaint about the same matter. Final.
    Merged,
    /// Withdrawn by the complainant. Final.
    Withdrawn,
}

impl Status {
    /// Every status, for validation messages and filters.
    pub const ALL: [Status; 14] = [
        Status::Received,
        Status::Accepted,
        Status::Declined,
        Status::Assigned,
        Status::Investigating,
        Status::Waiting,
        Status::ResolutionProposed,
        Status::AwaitingApproval,
        Status::Decided,
        Status::UnderReview,
        Status::Closed,
        Status::Archived,
        Status::Merged,
        Status::Withdrawn,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Accepted => "accepted",
            Status::Declined => "declined",
            Status::Assigned => "assigned",
            Status::Investigating => "investigating",
            Status::Waiting => "waiting",
            Status::ResolutionProposed => "resolution_proposed",
            Status::AwaitingApproval => "awaiting_approval",
            Status::Decided => "decided",
            Status::UnderReview => "under_review",
            Status::Closed => "closed",
            Status::Archived => "archived",
            Status::Merged => "merged",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// Parses a wire name.
    pub fn parse(value: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether the legal handling clock still runs for this status (the complaint is not yet
    /// decided and not ended).
    pub fn is_being_handled(self) -> bool {
        matches!(
            self,
            Status::Received
                | Status::Accepted
                | Status::Assigned
                | Status::Investigating
                | Status::Waiting
                | Status::ResolutionProposed
                | Status::AwaitingApproval
                | Status::UnderReview
        )
    }

    /// Whether the complaint still needs someone's work (handling, follow-up, review).
    pub fn is_open(self) -> bool {
        self.is_being_handled() || self == Status::Decided
    }

    /// Whether the complaint has ended for good.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Declined | Status::Archived | Status::Merged | Status::Withdrawn)
    }

    /// The status a newly registered complaint starts in; [`ActionKind::Register`] creates it
    /// here, and every later step goes through [`Status::allows`].
    pub const INITIAL: Status = Status::Received;

    /// The status an action of this kind leads to from this status, or `None` when the
    /// lifecycle does not allow it.
    ///
    /// This table is the only place that says where an action leads. Where one action can end
    /// in two different statuses (a transfer with or without a named handler, a proposal that
    /// needs approval, a satisfied or dissatisfied follow-up), each outcome is a kind of its own,
    /// chosen from the action before the table is consulted
    /// ([`crate::complaint::action_kind`]).
    pub fn allows(self, action: ActionKind) -> Option<Status> {
        use ActionKind as A;
        use Status as S;
        let next = match (self, action) {
            (S::Received, A::Accept) => S::Accepted,
            (S::Received | S::Accepted | S::Assigned, A::Decline) => S::Declined,
            (S::Accepted, A::Assign) => S::Assigned,
            (S::Assigned | S::Investigating | S::Waiting | S::UnderReview, A::Assign) => self,
            // A named handler in the new department takes it over at once; a transfer to a
            // department alone waits there for assignment. Work already under way keeps its status.
            (S::Accepted, A::TransferToHandler) => S::Assigned,
            (S::Assigned | S::Investigating | S::Waiting | S::UnderReview, A::TransferToHandler) => self,
            (S::Accepted | S::Assigned, A::TransferToDepartment) => S::Accepted,
            (S::Investigating | S::Waiting | S::UnderReview, A::TransferToDepartment) => self,
            (S::Assigned, A::StartInvestigation) => S::Investigating,
            (S::Investigating | S::UnderReview, A::Pause) => S::Waiting,
            (S::Waiting, A::Resume) => S::Investigating,
            (S::Investigating | S::UnderReview, A::ProposeResolution) => S::ResolutionProposed,
            (S::Investigating | S::UnderReview, A::ProposeResolutionForApproval) => S::AwaitingApproval,
            (S::AwaitingApproval, A::ApproveResolution) => S::ResolutionProposed,
            (S::AwaitingApproval | S::ResolutionProposed, A::RejectResolution) => S::Investigating,
            (S::ResolutionProposed, A::Decide) => S::Decided,
            // Satisfaction closes the case; dissatisfaction reopens it for investigation.
            (S::Decided, A::FollowUpSatisfied) => S::Closed,
            (S::Decided, A::FollowUpDissatisfied) => S::Investigating,
            (S::Decided, A::Close) => S::Closed,
            (S::Decided | S::Closed, A::Reopen) => S::Investigating,
            (S::Decided | S::Closed, A::RequestReview) => S::UnderReview,
            (S::Closed, A::Archive) => S::Archived,
            (s, A::MergeInto) if s.is_being_handled() && s != S::UnderReview => S::Merged,
            (s, A::Withdraw) if s.is_open() => S::Withdrawn,
            (s, A::RequestExtension | A::DecideExtension | A::NewFacts) if s.is_being_handled() && s != S::Waiting => s,
            (s, A::AddNote | A::Attach | A::CorrectClassification | A::Escalate | A::MarkDue) if !s.is_final() => s,
            (s, A::LinkDuplicate) if s.is_open() => s,
            // Reading the full contact details changes nothing but the history, in any status.
            (s, A::RevealContact) => s,
            // Registering creates a complaint (in `Status::INITIAL`); it never applies to one.
            _ => return None,
        };
        Some(next)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of action on a complaint; each becomes one history event, stored under its wire
/// name (`as_str`, the same as its serde name).
///
/// A kind names an action together with the outcome the lifecycle gives it, so that
/// [`Status::allows`] alone decides the resulting status: one action that can end in two
/// statuses is two kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// The complaint was registered.
    Register,
    /// Accepted (受理).
    Accept,
    /// Declined with a profile reason.
    Decline,
    /// Given to a handler.
    Assign,
    /// Moved to another department and a named handler there, with a reason.
    TransferToHandler,
    /// Moved to another department without a handler, with a reason; it waits there for
    /// assignment.
    TransferToDepartment,
    /// Investigation started.
    StartInvestigation,
    /// Clock paused.
    Pause,
    /// Clock resumed.
    Resume,
    /// A resolution proposed that the proposer may carry out without a second person.
    ProposeResolution,
    /// A resolution proposed that needs a second person's approval (its amount is above the
    /// profile's approval threshold or in another currency): maker-checker.
    ProposeResolutionForApproval,
    /// The second person approved.
    ApproveResolution,
    /// The proposal was sent back.
    RejectResolution,
    /// Decided and the customer notified.
    Decide,
    /// Follow-up recorded: the customer is satisfied or basically satisfied; the case closes.
    FollowUpSatisfied,
    /// Follow-up recorded: the customer is dissatisfied; the case reopens and is escalated.
    FollowUpDissatisfied,
    /// Closed.
    Close,
    /// Reopened (dissatisfaction, new issue).
    Reopen,
    /// Review (核查) requested by the customer.
    RequestReview,
    /// Archived.
    Archive,
    /// Merged into another complaint.
    MergeInto,
    /// Withdrawn by the complainant.
    Withdraw,
    /// An extension of the deadline requested.
    RequestExtension,
    /// An extension request approved or refused.
    DecideExtension,
    /// New facts restarted the clock.
    NewFacts,
    /// A note added.
    AddNote,
    /// A file attached.
    Attach,
    /// A person corrected a classification label.
    CorrectClassification,
    /// Escalated (priority raised, superiors notified).
    Escalate,
    /// The scheduler marked it due soon or overdue.
    MarkDue,
    /// Linked to a complaint about the same matter.
    LinkDuplicate,
    /// Someone revealed the complainant's full phone and ID number (recorded, since both are
    /// masked everywhere else).
    RevealContact,
}

impl ActionKind {
    /// Every kind, for exhaustive checks and documentation.
    pub const ALL: [ActionKind; 32] = [
        ActionKind::Register,
        ActionKind::Accept,
        ActionKind::Decline,
        ActionKind::Assign,
        ActionKind::TransferToHandler,
        ActionKind::TransferToDepartment,
        ActionKind::StartInvestigation,
        ActionKind::Pause,
        ActionKind::Resume,
        ActionKind::ProposeResolution,
        ActionKind::ProposeResolutionForApproval,
        ActionKind::ApproveResolution,
        ActionKind::RejectResolution,
        ActionKind::Decide,
        ActionKind::FollowUpSatisfied,
        ActionKind::FollowUpDissatisfied,
        ActionKind::Close,
        ActionKind::Reopen,
        ActionKind::RequestReview,
        ActionKind::Archive,
        ActionKind::MergeInto,
        ActionKind::Withdraw,
        ActionKind::RequestExtension,
        ActionKind::DecideExtension,
        ActionKind::NewFacts,
        ActionKind::AddNote,
        ActionKind::Attach,
        ActionKind::CorrectClassification,
        ActionKind::Escalate,
        ActionKind::MarkDue,
        ActionKind::LinkDuplicate,
        ActionKind::RevealContact,
    ];

    /// The wire name, as stored in the history.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Register => "register",
            ActionKind::Accept => "accept",
            ActionKind::Decline => "decline",
            ActionKind::Assign => "assign",
            ActionKind::TransferToHandler => "transfer_to_handler",
            ActionKind::TransferToDepartment => "transfer_to_department",
            ActionKind::StartInvestigation => "start_investigation",
            ActionKind::Pause => "pause",
            ActionKind::Resume => "resume",
            ActionKind::ProposeResolution => "propose_resolution",
            ActionKind::ProposeResolutionForApproval => "propose_resolution_for_approval",
            ActionKind::ApproveResolution => "approve_resolution",
            ActionKind::RejectResolution => "reject_resolution",
            ActionKind::Decide => "decide",
            ActionKind::FollowUpSatisfied => "follow_up_satisfied",
            ActionKind::FollowUpDissatisfied => "follow_up_dissatisfied",
            ActionKind::Close => "close",
            ActionKind::Reopen => "reopen",
            ActionKind::RequestReview => "request_review",
            ActionKind::Archive => "archive",
            ActionKind::MergeInto => "merge_into",
            ActionKind::Withdraw => "withdraw",
            ActionKind::RequestExtension => "request_extension",
            ActionKind::DecideExtension => "decide_extension",
            ActionKind::NewFacts => "new_facts",
            ActionKind::AddNote => "add_note",
            ActionKind::Attach => "attach",
            ActionKind::CorrectClassification => "correct_classification",
            ActionKind::Escalate => "escalate",
            ActionKind::MarkDue => "mark_due",
            ActionKind::LinkDuplicate => "link_duplicate",
            ActionKind::RevealContact => "reveal_contact",
        }
    }

    /// Parses a wire name.
    pub fn parse(value: &str) -> Option<ActionKind> {
        ActionKind::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// What the action does, as a verb phrase for messages ("cannot … a complaint that is …").
    pub fn describe(self) -> &'static str {
        match self {
            ActionKind::Register => "register",
            ActionKind::Accept => "accept",
            ActionKind::Decline => "decline",
            ActionKind::Assign => "assign",
            ActionKind::TransferToHandler => "transfer to a handler",
            ActionKind::TransferToDepartment => "transfer to a department",
            ActionKind::StartInvestigation => "start investigating",
            ActionKind::Pause => "pause",
            ActionKind::Resume => "resume",
            ActionKind::ProposeResolution => "propose a resolution for",
            ActionKind::ProposeResolutionForApproval => "propose a resolution needing approval for",
            ActionKind::ApproveResolution => "approve the resolution of",
            ActionKind::RejectResolution => "send back the resolution of",
            ActionKind::Decide => "decide",
            ActionKind::FollowUpSatisfied => "record a satisfied follow-up on",
            ActionKind::FollowUpDissatisfied => "record a dissatisfied follow-up on",
            ActionKind::Close => "close",
            ActionKind::Reopen => "reopen",
            ActionKind::RequestReview => "request a review of",
            ActionKind::Archive => "archive",
            ActionKind::MergeInto => "merge",
            ActionKind::Withdraw => "withdraw",
            ActionKind::RequestExtension => "request an extension for",
            ActionKind::DecideExtension => "decide an extension of",
            ActionKind::NewFacts => "add new facts to",
            ActionKind::AddNote => "add a note to",
            ActionKind::Attach => "attach a file to",
            ActionKind::CorrectClassification => "correct the classification of",
            ActionKind::Escalate => "escalate",
            ActionKind::MarkDue => "mark the due state of",
            ActionKind::LinkDuplicate => "link a duplicate to",
            ActionKind::RevealContact => "reveal the contact details of",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_path_is_allowed() {
        use ActionKind as A;
        let path = [
            (A::Accept, Status::Accepted),
            (A::Assign, Status::Assigned),
            (A::StartInvestigation, Status::Investigating),
            (A::Pause, Status::Waiting),
            (A::Resume, Status::Investigating),
            (A::ProposeResolution, Status::ResolutionProposed),
            (A::Decide, Status::Decided),
            (A::Close, Status::Closed),
            (A::Archive, Status::Archived),
        ];
        let mut s = Status::Received;
        for (action, expected) in path {
            s = s.allows(action).unwrap_or_else(|| panic!("{s} should allow {action:?}"));
            assert_eq!(s, expected);
        }
        assert!(s.is_final());
    }

    #[test]
    fn invalid_transitions_are_refused() {
        assert_eq!(Status::Received.allows(ActionKind::Decide), None);
        assert_eq!(Status::Archived.allows(ActionKind::Reopen), None);
        assert_eq!(Status::Withdrawn.allows(ActionKind::AddNote), None);
        assert_eq!(Status::Waiting.allows(ActionKind::RequestExtension), None);
        assert_eq!(Status::Decided.allows(ActionKind::MergeInto), None);
    }

    #[test]
    fn every_status_round_trips_its_name() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn every_action_kind_round_trips_its_name_and_serde_agrees() {
        for k in ActionKind::ALL {
            assert_eq!(ActionKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::Value::String(k.as_str().into()));
        }
    }

    #[test]
    fn nothing_applies_registration_to_an_existing_complaint() {
        for s in Status::ALL {
            assert_eq!(s.allows(ActionKind::Register), None, "{s}");
        }
    }

    #[test]
    fn final_statuses_allow_nothing_but_recorded_reading() {
        for s in Status::ALL.into_iter().filter(|s| s.is_final()) {
            for k in ActionKind::ALL {
                // Revealing the contact details changes nothing; it is only recorded.
                let expected = (k == ActionKind::RevealContact).then_some(s);
                assert_eq!(s.allows(k), expected, "{s} allows {k}");
            }
        }
    }
}
