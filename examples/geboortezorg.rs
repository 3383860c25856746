//! The birth-care (geboortezorg) story, told through the engine.
//!
//! A client, Sanne, is pregnant. Her verloskundige (midwife) at the practice
//! `vp-noord` keeps her dossier: `vp-noord` is the holder (dossierhouder). A
//! gynaecoloog at `ziekenhuis-zuid`, a kraamverzorgende at `kz-oost` and a JGZ
//! nurse at `jgz-west` care for her too. Who sees what, and when?
//!
//! Run with `cargo run --release --example geboortezorg`. Every allow or deny
//! printed below is computed by the engine; nothing is hard-coded. The rule
//! numbers (R5, R6, …) refer to `RULES.md`.

use std::fmt::Write as _;

use zorg_pdp::{
    Action, Category, Change, DashboardQuery, DocumentRef, Engine, Event, EventKind, Organisation,
    OrganisationId, Patient, PatientId, Practitioner, PractitionerId, Principal, Purpose, Reason,
    Request, Response, Role, Task, Timestamp,
};

#[path = "support/say.rs"]
mod say;
use say::say;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The engine plus a tally of the decisions it took, for the closing line
struct Story {
    engine: Engine,
    allowed: usize,
    denied: usize,
    dashboards: usize,
}

impl Story {
    /// Asks the engine and counts the answer
    fn decide(&mut self, request: &Request) -> Response {
        let response = self.engine.decide(request);
        if response.is_allowed() {
            self.allowed += 1;
        } else {
            self.denied += 1;
        }
        response
    }
}

/// A member of the care team: a practitioner with a Dutch role name
struct Member {
    role: &'static str,
    id: PractitionerId,
    organisation: OrganisationId,
}

/// Prints a step's heading and its one-line explanation
fn step(number: u32, title: &str, why: &str) {
    say!("\n{number}. {title}\n   {why}\n");
}

/// Prints an answer as `allow` or `deny`, with every reason in words
fn show(what: &str, response: &Response) {
    if response.is_allowed() {
        say!("   {what:<46} -> allow");
    } else {
        say!("   {what:<46} -> deny");
        print_reasons(&response.reasons);
    }
}

fn print_reasons(reasons: &[Reason]) {
    for reason in reasons {
        say!("      - {reason}: {}", reason.explain());
    }
}

/// A request by `who` about `patient` at `at`, signed in with two factors
fn ask(who: &Member, patient: &PatientId, at: Timestamp, action: Action) -> Request {
    Request {
        principal: Principal::Practitioner(who.id.clone()),
        patient: patient.clone(),
        at,
        mfa: true,
        action,
        min_seq: None,
    }
}

/// The four dashboards side by side: one row per category (canonical order),
/// one column per practitioner; `✓` when the dashboard shows that category of
/// `holder`'s dossier. Below the table, why a column shows nothing.
fn dashboard_table(
    story: &mut Story,
    team: &[Member],
    patient: &PatientId,
    holder: &OrganisationId,
    at: Timestamp,
) -> Result<()> {
    let mut columns = Vec::new();
    for member in team {
        let query = DashboardQuery {
            principal: Principal::Practitioner(member.id.clone()),
            patient: patient.clone(),
            at,
            mfa: true,
            purpose: Purpose::Treatment,
            min_seq: None,
        };
        let answer = story.engine.dashboard(&query)?;
        story.dashboards += 1;
        // The dashboard lists every organisation in the patient's network;
        // this table is about the holder's dossier only.
        let view = answer.holders.into_iter().find(|h| &h.holder == holder);
        columns.push((
            member,
            view.ok_or("the holder is missing from a dashboard")?,
        ));
    }
    // One width for every column, so the marks line up under the names.
    let w = team
        .iter()
        .map(|m| m.role.len().max(m.organisation.as_str().len() + 2))
        .max()
        .unwrap_or(0);
    say!("   {holder} dossier as seen on each dashboard at {at}:\n");
    let mut header = format!("   {:<18}", "category");
    let mut under = format!("   {:<18}", "");
    for (member, _) in &columns {
        write!(header, "  {:^w$}", member.role)?;
        write!(under, "  {:^w$}", format!("({})", member.organisation))?;
    }
    say!("{}\n{}", header.trim_end(), under.trim_end());
    let policies = story.engine.policies();
    for category in policies.vocabulary().categories() {
        let mut row = format!("   {:<18}", category.as_str());
        for (_, view) in &columns {
            let mark = if view.visible.contains(category) {
                "✓"
            } else {
                "·"
            };
            write!(row, "  {mark:^w$}")?;
        }
        say!("{}", row.trim_end());
    }
    for (member, view) in &columns {
        if view.visible.is_empty() {
            say!(
                "\n   {} ({}, {}) sees nothing of {holder}:",
                member.id,
                member.role,
                member.organisation
            );
            print_reasons(&view.reasons);
        }
    }
    Ok(())
}

#[expect(clippy::too_many_lines, reason = "the story, told in order")]
fn main() -> Result<()> {
    let mut story = Story {
        engine: Engine::new()?,
        allowed: 0,
        denied: 0,
        dashboards: 0,
    };
    say!("Geboortezorg: sharing a pregnancy dossier in a birth-care network");
    say!("================================================================");

    // ---- 1. Who is who ---------------------------------------------------
    step(
        1,
        "Register the care network",
        "Four organisations, one practitioner each, and the client; each organisation starts a treatment relationship with her.",
    );
    let client = PatientId::new("client-sanne")?;
    let vp_noord = OrganisationId::new("vp-noord")?;
    let team = [
        ("verloskundige", "eva", "vp-noord"),
        ("gynaecoloog", "dr-jansen", "ziekenhuis-zuid"),
        ("kraamverzorgende", "anna", "kz-oost"),
        ("jgz", "lotte", "jgz-west"),
    ]
    .into_iter()
    .map(|(role, id, organisation)| {
        Ok(Member {
            role,
            id: PractitionerId::new(id)?,
            organisation: OrganisationId::new(organisation)?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let [midwife, gynaecologist, maternity_nurse, jgz_nurse] = team.as_slice() else {
        return Err("the care team has four members".into());
    };
    let intake = Timestamp::parse("2026-01-05T09:00:00Z")?;
    story
        .engine
        .register_patient(&Patient::new(client.clone()))?;
    for member in &team {
        story
            .engine
            .register_organisation(Organisation::new(member.organisation.clone()))?;
        let mut practitioner = Practitioner::new(
            member.id.clone(),
            member.organisation.clone(),
            Role::new(member.role)?,
        );
        // The midwife may record the client's consent for her own practice (R26).
        if member.organisation == vp_noord {
            practitioner.tasks.push(Task::new("consent_change")?);
        }
        story.engine.register_practitioner(practitioner)?;
        story.engine.apply(&Event {
            at: intake,
            kind: EventKind::Treatment {
                change: Change::Given,
                patient: client.clone(),
                organisation: member.organisation.clone(),
            },
        })?;
        say!(
            "   {:<13} {:<17} at {:<16} in treatment from {intake}",
            member.id.as_str(),
            member.role,
            member.organisation.as_str()
        );
    }
    say!(
        "   {:<13} the client (cliënt), pregnant with her first child",
        client.as_str()
    );

    // ---- 2. No consent yet ------------------------------------------------
    step(
        2,
        "Before consent, the gynaecoloog sees nothing of vp-noord",
        "Another holder's dossier needs the client's consent and an access request (R6); asking for access needs a consent first (R13).",
    );
    let day2 = Timestamp::parse("2026-01-06T10:00:00Z")?;
    let echo = Category::new("echo")?;
    let request_access = ask(gynaecologist, &client, day2, Action::RequestAccess);
    show(
        "gynaecoloog: request access",
        &story.decide(&request_access),
    );
    let view_echo = |at| {
        Request::view(
            gynaecologist.id.clone(),
            client.clone(),
            vp_noord.clone(),
            echo.clone(),
            at,
            true,
        )
    };
    show(
        "gynaecoloog: view vp-noord / echo",
        &story.decide(&view_echo(day2)),
    );

    // ---- 3. Consent and access requests -----------------------------------
    step(
        3,
        "Sanne consents to sharing her vp-noord dossier; the others request access",
        "Events are facts: the host first asks the engine (change_consent R26, request_access R13) and records the event only on allow.",
    );
    let consent_at = Timestamp::parse("2026-01-07T09:00:00Z")?;
    let change = Action::ChangeConsent {
        holder: vp_noord.clone(),
    };
    let may_record = story.decide(&ask(midwife, &client, consent_at, change.clone()));
    show("verloskundige: record consent for vp-noord", &may_record);
    if may_record.is_allowed() {
        story.engine.apply(&Event {
            at: consent_at,
            kind: EventKind::DossierConsent {
                change: Change::Given,
                patient: client.clone(),
                holder: vp_noord.clone(),
                recorded_by: Some(midwife.id.clone()),
                evidence: Some(DocumentRef::new("consent-form-2026-001")?),
            },
        })?;
        say!("      recorded: dossier_consent_given (evidence consent-form-2026-001)");
    }
    let request_at = Timestamp::parse("2026-01-07T10:00:00Z")?;
    for member in [gynaecologist, maternity_nurse, jgz_nurse] {
        let answer = story.decide(&ask(member, &client, request_at, Action::RequestAccess));
        show(&format!("{}: request access", member.role), &answer);
        if answer.is_allowed() {
            story.engine.apply(&Event {
                at: request_at,
                kind: EventKind::AccessRequested {
                    practitioner: member.id.clone(),
                    patient: client.clone(),
                },
            })?;
            say!("      recorded: access_requested");
        }
    }

    // ---- 4. The dashboards ----------------------------------------------
    step(
        4,
        "Four dashboards, one dossier",
        "Everyone may now look, but each role sees only its own categories (R12); the verloskundige sees her own dossier without asking (R5).",
    );
    let february = Timestamp::parse("2026-02-01T12:00:00Z")?;
    dashboard_table(&mut story, &team, &client, &vp_noord, february)?;
    say!(
        "\n   The columns differ by role only: the role x category matrix in\n   \
         policies/role-matrix.cedar decides them (R12), not the code."
    );

    // ---- 5. Withdrawal ------------------------------------------------------
    step(
        5,
        "Sanne withdraws her consent",
        "From the withdrawal on, nobody outside vp-noord sees any of its data, also what was shared before (R9); vp-noord keeps its own dossier (R5).",
    );
    let withdrawn_at = Timestamp::parse("2026-03-01T09:00:00Z")?;
    let may_record = story.decide(&ask(midwife, &client, withdrawn_at, change));
    show("verloskundige: record the withdrawal", &may_record);
    if may_record.is_allowed() {
        story.engine.apply(&Event {
            at: withdrawn_at,
            kind: EventKind::DossierConsent {
                change: Change::Withdrawn,
                patient: client.clone(),
                holder: vp_noord.clone(),
                recorded_by: Some(midwife.id.clone()),
                evidence: Some(DocumentRef::new("consent-form-2026-002")?),
            },
        })?;
        say!("      recorded: dossier_consent_withdrawn at {withdrawn_at}\n");
    }
    let march = Timestamp::parse("2026-03-02T12:00:00Z")?;
    dashboard_table(&mut story, &team, &client, &vp_noord, march)?;

    // R4: the withdrawal is already in the registry, yet a decision taken at
    // a time before it sees only the events up to that time.
    say!("\n   Time travel (R4): asked now, about a time before the withdrawal:");
    show(
        &format!("gynaecoloog: view echo at {february}"),
        &story.decide(&view_echo(february)),
    );
    show(
        &format!("gynaecoloog: view echo at {march}"),
        &story.decide(&view_echo(march)),
    );

    // ---- 6. Summary -----------------------------------------------------------
    let per_dashboard = story.engine.policies().vocabulary().categories().len();
    say!(
        "\n6. Done: {} decisions ({} allow, {} deny) and {} dashboards ({} view decisions per holder each), all by the engine.",
        story.allowed + story.denied,
        story.allowed,
        story.denied,
        story.dashboards,
        per_dashboard,
    );
    Ok(())
}
