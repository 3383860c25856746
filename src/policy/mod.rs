//! Loading the Cedar schema and policies: strict validation, `@id` and
//! `@reason` annotations, the vocabulary, the content hash.

mod consent_vocab;
mod contract;
mod error;
mod format;
mod introspect;
mod least_privilege;
mod load;
pub mod policy_load_errors;
mod read;
mod validate;
mod vocabulary;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{ActionConstraint, Effect, EntityUid, PolicySet, Schema};
use hashbrown::HashMap;
use sha2::{Digest, Sha256};

#[cfg(test)]
pub(crate) use consent_vocab::consent_for;
pub use error::PolicyLoadError;
pub use format::{FORMAT_INDENT, FORMAT_LINE_WIDTH, format_policies};

use crate::diagnostic;
use crate::model::hex::hex;
use crate::model::vocab::{ActionKind, Reason, Vocabulary};
use policy_load_errors::{DuplicateIdError, SchemaError};

/// The largest policy or schema file accepted, in bytes
pub const MAX_POLICY_FILE_LEN: usize = 1024 * 1024;

/// The deepest nesting of brackets accepted in a policy or schema file;
/// deeper text is refused before Cedar's recursive parser sees it
pub const MAX_POLICY_NESTING: usize = 64;

/// The most operator characters (`! & | + - * < > = .`) one policy may hold;
/// it bounds the depth of the expression Cedar parses and evaluates recursively
pub const MAX_POLICY_OPERATORS: usize = 4096;

/// The shipped schema file's name
pub const SCHEMA_FILE: &str = "zorg.cedarschema";

/// The consent vocabulary file's name (SPEC.md §7.2,
/// `docs/consent-vocabulary.md`): read beside the schema by
/// [`Policies::from_dir`], and recognised by this name among the files of
/// [`Policies::from_sources`]
pub const CONSENT_FILE: &str = "consent.toml";

/// The shipped policies, embedded so the engine works with no files present
const SHIPPED_SCHEMA: &str = include_str!("../../policies/zorg.cedarschema");
const SHIPPED_POLICIES: &[(&str, &str)] = &[
    (
        "access-and-sharing.cedar",
        include_str!("../../policies/access-and-sharing.cedar"),
    ),
    (
        "administration.cedar",
        include_str!("../../policies/administration.cedar"),
    ),
    (
        "care-modules.cedar",
        include_str!("../../policies/care-modules.cedar"),
    ),
    (
        "external-parties.cedar",
        include_str!("../../policies/external-parties.cedar"),
    ),
    ("mfa.cedar", include_str!("../../policies/mfa.cedar")),
    (
        "patient.cedar",
        include_str!("../../policies/patient.cedar"),
    ),
    (
        "records.cedar",
        include_str!("../../policies/records.cedar"),
    ),
    (
        "role-matrix.cedar",
        include_str!("../../policies/role-matrix.cedar"),
    ),
    (
        "view-own-dossier.cedar",
        include_str!("../../policies/view-own-dossier.cedar"),
    ),
    (
        "view-planned-care.cedar",
        include_str!("../../policies/view-planned-care.cedar"),
    ),
    (
        "view-relationship.cedar",
        include_str!("../../policies/view-relationship.cedar"),
    ),
    (
        "view-shared-dossier.cedar",
        include_str!("../../policies/view-shared-dossier.cedar"),
    ),
    (
        "view-unplanned-care.cedar",
        include_str!("../../policies/view-unplanned-care.cedar"),
    ),
];

/// Which load-time guards run beyond parsing and strict validation
#[derive(Debug, Clone, Copy)]
enum Guard {
    /// Least privilege (R52): always, outside the crate's own tests
    LeastPrivilege,
    /// None (toy sets in the crate's unit tests)
    #[cfg(test)]
    None,
}

/// One loaded policy
#[derive(Debug, Clone)]
pub(crate) struct PolicyInfo {
    pub(crate) effect: Effect,
    pub(crate) reason: Option<Reason>,
}

/// A loaded, strictly validated policy set with its schema and vocabulary
///
/// Immutable once built; an [`crate::Engine`] swaps whole `Policies` on reload.
#[derive(Debug, Clone)]
pub struct Policies {
    pub(crate) schema: Schema,
    pub(crate) set: PolicySet,
    pub(crate) info: HashMap<String, PolicyInfo>,
    /// Per action, the policies whose action scope can match it
    buckets: HashMap<ActionKind, PolicySet>,
    vocabulary: Vocabulary,
    ids: Vec<String>,
    /// Where each policy was written: its file and first line
    origins: HashMap<String, load::Origin>,
    digest: [u8; 32],
    content_hash: String,
}

impl Policies {
    /// The policies shipped with the crate (`policies/` at build time)
    ///
    /// # Errors
    ///
    /// [`PolicyLoadError`] only if the shipped files are broken, which the
    /// crate's tests rule out.
    pub fn shipped() -> Result<Self, PolicyLoadError> {
        Self::from_sources(SHIPPED_SCHEMA, SHIPPED_POLICIES.iter().copied())
    }

    /// Loads `zorg.cedarschema`, `consent.toml` and every `*.cedar` file of
    /// a directory
    ///
    /// A directory without a `consent.toml` ([`CONSENT_FILE`]) loads with the
    /// shipped consent vocabulary, exactly as if it held a copy of the
    /// shipped file (the same content hash); its errors then name the file
    /// `<shipped consent.toml>`.
    ///
    /// # Errors
    ///
    /// [`PolicyLoadError::Io`] (with the operating system's error as its
    /// source) when the directory or a file cannot be read,
    /// [`PolicyLoadError::NoSchema`] when the directory has no schema, and
    /// otherwise as [`Policies::from_sources`].
    ///
    /// Errors name each file by its path (`dir` joined with the file's name).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, PolicyLoadError> {
        let dir = dir.as_ref();
        let (schema, files) = read::read_dir(dir)?;
        Self::load(
            Some(dir),
            &schema,
            files.iter().map(|(n, t)| (n.as_str(), t.as_str())),
            Guard::LeastPrivilege,
        )
    }

    /// Builds a policy set from a schema text and named policy texts
    ///
    /// Files are read in name order; a later file of the same name replaces
    /// an earlier one. A file named `consent.toml` ([`CONSENT_FILE`]) is the
    /// consent vocabulary (SPEC.md §7.2), every other file a Cedar policy
    /// file; without one the shipped consent vocabulary applies, as if its
    /// text had been given (the same content hash).
    ///
    /// # Errors
    ///
    /// [`PolicyLoadError`] naming the file, line and policy at fault, with
    /// the place in the file (`location()`: line, column, span) where it is
    /// known: a file that is too large, too deep, does not parse or lacks an
    /// annotation; [`PolicyLoadError::Contract`] with every way the schema
    /// does not accept what the engine sends; [`PolicyLoadError::Consent`]
    /// with every error of the consent vocabulary (its TOML, its codes, its
    /// references, and that it maps exactly the schema's categories);
    /// [`PolicyLoadError::Validation`]
    /// with every strict-validation error; [`PolicyLoadError::LeastPrivilege`]
    /// with every permit that can grant an action lacking a forbid for a
    /// reason code RULES.md lists for it (R52, `docs/least-privilege.md`).
    /// Every stage that can run does: a load that fails in more than one way
    /// fails with [`PolicyLoadError::Several`], holding every error in a fixed
    /// order (least privilege is checked once everything else passed).
    ///
    /// ```
    /// use zorg_pdp::{Policies, PolicyLoadError};
    /// let schema = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/zorg.cedarschema"));
    /// let mfa = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/mfa.cedar"));
    /// let policies = Policies::from_sources(schema, [("mfa.cedar", mfa)])?;
    /// assert!(policies.content_hash().starts_with("sha256:"));
    /// // A policy that reads what the schema does not declare is refused, with its file and id
    /// let typo = "@id(\"p\") permit (principal, action, resource) when { context.mfaa };";
    /// let error = Policies::from_sources(schema, [("typo.cedar", typo)]).unwrap_err();
    /// assert!(matches!(error, PolicyLoadError::Validation(_)), "{error}");
    /// assert!(error.to_string().contains("typo.cedar"), "{error}");
    /// // A permit without the forbids its action needs is refused (least privilege)
    /// let open = "@id(\"share\") permit (principal, action == Action::\"share\", resource);";
    /// let error = Policies::from_sources(schema, [("mfa.cedar", mfa), ("open.cedar", open)]).unwrap_err();
    /// assert!(matches!(error, PolicyLoadError::LeastPrivilege(_)), "{error}");
    /// assert!(error.to_string().contains("`open.cedar` line 1, policy `share`"), "{error}");
    /// assert!(error.to_string().contains("no_dossier_consent"), "{error}");
    /// # Ok::<(), PolicyLoadError>(())
    /// ```
    pub fn from_sources<'a>(
        schema_text: &str,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, PolicyLoadError> {
        Self::load(None, schema_text, files, Guard::LeastPrivilege)
    }

    /// [`Policies::from_sources`] without the least-privilege check (R52),
    /// for the crate's own tests of analyses over arbitrary toy sets
    #[cfg(test)]
    pub(crate) fn from_sources_unguarded<'a>(
        schema_text: &str,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, PolicyLoadError> {
        Self::load(None, schema_text, files, Guard::None)
    }

    /// As [`Policies::from_sources`], errors naming each file as `dir` joined
    /// with its name when a `dir` is given
    fn load<'a>(
        dir: Option<&Path>,
        schema_text: &str,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
        guard: Guard,
    ) -> Result<Self, PolicyLoadError> {
        let shown = |name: &str| {
            dir.map_or_else(|| name.to_owned(), |d| d.join(name).display().to_string())
        };
        let mut errors = Vec::new();
        let schema_source = diagnostic::source(&shown(SCHEMA_FILE), schema_text);
        let schema = match vocabulary::parse_schema(&schema_source) {
            Ok((schema, vocabulary)) => {
                if let Err(e) = contract::check(&schema, &schema_source, &vocabulary) {
                    errors.push(e.into());
                }
                Some((schema, vocabulary))
            }
            Err(found) => {
                errors.extend(found);
                None
            }
        };
        let mut files: BTreeMap<&str, &str> = files.into_iter().collect();
        let consent = consent_of(
            files.remove(CONSENT_FILE),
            &shown,
            schema.as_ref().map(|(_, v)| v.categories()),
            &mut errors,
        );
        let mut loaded = load::Loaded::default();
        for (&name, &text) in &files {
            loaded.add_file(&shown(name), text, &mut errors);
        }
        if let Some((schema, _)) = &schema
            && let Err(e) = validate::strictly(schema, &loaded)
        {
            errors.push(e.into());
        }
        if let Some(e) = PolicyLoadError::from_all(errors) {
            return Err(e);
        }
        // No error: the schema parsed
        let (schema, vocabulary) = schema.ok_or_else(|| SchemaError::new("no schema"))?;
        let (consent, consent_text) = consent;
        let vocabulary = vocabulary
            .with_consent(consent.ok_or_else(|| SchemaError::new("no consent vocabulary"))?);
        let actions = ActionScope::all(&schema)?;
        let checked = match guard {
            Guard::LeastPrivilege => least_privilege::check(&schema, &loaded, &actions),
            #[cfg(test)]
            Guard::None => Ok(()),
        };
        checked.map_err(|e| {
            e.located(|file, line| {
                let source = loaded.sources.get(file)?;
                let len = source.inner().lines().nth(line.checked_sub(1)?)?.len();
                Some(crate::diagnostic::Location::at_line_column(
                    source, line, 1, len,
                ))
            })
        })?;
        let buckets = bucket_by_action(&actions, &loaded.set)?;
        files.insert(CONSENT_FILE, consent_text);
        let digest = content_digest(schema_text, &files);
        let mut ids = loaded.ids;
        ids.sort();
        Ok(Self {
            schema,
            set: loaded.set,
            info: loaded.info,
            buckets,
            vocabulary,
            ids,
            origins: loaded.origins,
            digest,
            content_hash: version_of(&digest),
        })
    }

    /// The policies that can apply to `action` (all of them if the bucket is missing)
    pub(crate) fn bucket(&self, action: ActionKind) -> &PolicySet {
        self.buckets.get(&action).unwrap_or(&self.set)
    }

    /// Every entity literal named in a policy's scope or condition
    pub(crate) fn entity_literals(&self) -> Vec<EntityUid> {
        let mut out = Vec::new();
        for policy in self.set.policies() {
            out.extend(policy.entity_literals());
            match policy.principal_constraint() {
                cedar_policy::PrincipalConstraint::Eq(uid)
                | cedar_policy::PrincipalConstraint::In(uid)
                | cedar_policy::PrincipalConstraint::IsIn(_, uid) => out.push(uid),
                cedar_policy::PrincipalConstraint::Any
                | cedar_policy::PrincipalConstraint::Is(_) => {}
            }
            match policy.resource_constraint() {
                cedar_policy::ResourceConstraint::Eq(uid)
                | cedar_policy::ResourceConstraint::In(uid)
                | cedar_policy::ResourceConstraint::IsIn(_, uid) => out.push(uid),
                cedar_policy::ResourceConstraint::Any | cedar_policy::ResourceConstraint::Is(_) => {
                }
            }
        }
        out
    }

    /// The vocabulary the schema declares
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// Every policy id, sorted
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The reason code a forbid policy reports, `None` for permits and unknown ids
    pub fn reason_of(&self, id: &str) -> Option<Reason> {
        self.info.get(id).and_then(|i| i.reason)
    }

    /// The file a policy was read from and the 1-based line it starts on
    pub fn origin(&self, id: &str) -> Option<(&str, usize)> {
        self.origins.get(id).map(|o| (o.file.as_str(), o.line))
    }

    /// Whether the policy is a `permit`
    pub fn is_permit(&self, id: &str) -> bool {
        self.info
            .get(id)
            .is_some_and(|i| i.effect == Effect::Permit)
    }

    /// `sha256:` and the hex SHA-256 of the schema and every policy file
    /// (name and text), in name order, the consent vocabulary among them as
    /// `consent.toml` (the shipped text when the set has none)
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// The Cedar schema the policies were strictly validated against, for
    /// tools that analyse the set (`zorg-pdp prove`)
    pub fn cedar_schema(&self) -> &Schema {
        &self.schema
    }

    /// The Cedar policy set the engine evaluates, each policy under its `@id`
    pub fn cedar_policies(&self) -> &PolicySet {
        &self.set
    }

    /// The context attributes the engine puts in at least one request it
    /// sends for `action`: `mfa`, `purpose`, `source`, `category`, `holder`,
    /// `module` where the action has them, and the action's facts. A
    /// schema may declare more (optional) attributes; the engine never sets them.
    pub fn supplied_context(action: ActionKind) -> Vec<&'static str> {
        contract::supplied_context(action)
    }

    /// The attributes the engine gives every entity of `entity_type` it
    /// builds (`Practitioner`: `role`, `tasks`, `organisation`); none for
    /// `Patient`, `Organisation` and the types it does not build
    pub fn supplied_attributes(entity_type: &str) -> Vec<&'static str> {
        contract::supplied_attributes(entity_type)
    }

    /// The SHA-256 behind [`Policies::content_hash`]
    pub(crate) fn digest(&self) -> [u8; 32] {
        self.digest
    }
}

/// The consent vocabulary of a load: `given` (the text of a `consent.toml`)
/// or else the shipped one, checked against the schema's `categories` when
/// they are known; its errors go to `errors`. With the vocabulary (`None`
/// when it has errors or the schema did not load), the text it was read from.
fn consent_of<'a>(
    given: Option<&'a str>,
    shown: &dyn Fn(&str) -> String,
    categories: Option<&[crate::model::ids::Category]>,
    errors: &mut Vec<PolicyLoadError>,
) -> (
    Option<crate::model::consent_vocab::ConsentVocabulary>,
    &'a str,
) {
    let (name, text) = match given {
        Some(text) => (shown(CONSENT_FILE), text),
        None => (
            consent_vocab::SHIPPED_NAME.to_owned(),
            consent_vocab::SHIPPED_CONSENT,
        ),
    };
    let source = diagnostic::source(&name, text);
    match consent_vocab::parse(&source, categories, given.is_none()) {
        Ok(v) => (v, text),
        Err(e) => {
            errors.push(e);
            (None, text)
        }
    }
}

/// `sha256:` and the digest in lowercase hex: a policy set's content hash
pub(crate) fn version_of(digest: &[u8; 32]) -> String {
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    s.push_str(&hex(digest));
    s
}

/// The SHA-256 of the schema and every policy file (name and text), in name order
fn content_digest(schema_text: &str, files: &BTreeMap<&str, &str>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"schema\0");
    hasher.update(schema_text.as_bytes());
    for (name, text) in files {
        hasher.update(b"\0file\0");
        hasher.update(name.as_bytes());
        hasher.update(b"\0");
        hasher.update(text.as_bytes());
    }
    hasher.finalize().into()
}

/// An action the engine sends, with the action groups it belongs to
#[derive(Debug, Clone)]
pub(super) struct ActionScope {
    pub(super) kind: ActionKind,
    pub(super) uid: EntityUid,
    /// The action and every group it belongs to (by the schema's action hierarchy)
    scope: Vec<EntityUid>,
}

impl ActionScope {
    /// Every action of [`ActionKind::ALL`], in that order
    fn all(schema: &Schema) -> Result<Vec<Self>, PolicyLoadError> {
        let actions = schema
            .action_entities()
            .map_err(|e| SchemaError::new(flatten(&e)))?;
        ActionKind::ALL
            .iter()
            .map(|&kind| {
                let uid = EntityUid::from_str(&format!("Action::\"{}\"", kind.as_str()))
                    .map_err(|e| SchemaError::new(flatten(&e)))?;
                let mut scope: Vec<EntityUid> = vec![uid.clone()];
                if let Some(ancestors) = actions.ancestors(&uid) {
                    scope.extend(ancestors.cloned());
                }
                Ok(Self { kind, uid, scope })
            })
            .collect()
    }

    /// Whether a policy with this action scope can match a request for the
    /// action: it is unconstrained, or names the action or a group the
    /// action belongs to
    pub(super) fn matches(&self, constraint: &ActionConstraint) -> bool {
        match constraint {
            ActionConstraint::Any => true,
            ActionConstraint::Eq(a) => *a == self.uid,
            ActionConstraint::In(list) => list.iter().any(|a| self.scope.contains(a)),
        }
    }
}

/// Sorts policies into one bucket per action: a policy belongs to the bucket
/// of action `a` when its action scope can match `a` ([`ActionScope::matches`]).
/// A policy outside the bucket cannot match a request for `a`, so evaluating
/// the bucket gives exactly Cedar's answer for the whole set.
fn bucket_by_action(
    actions: &[ActionScope],
    set: &PolicySet,
) -> Result<HashMap<ActionKind, PolicySet>, PolicyLoadError> {
    let mut buckets = HashMap::new();
    for action in actions {
        let mut bucket = PolicySet::new();
        for policy in set.policies() {
            if action.matches(&policy.action_constraint()) {
                // Only a repeated id can fail here, and `set` has none.
                bucket
                    .add(policy.clone())
                    .map_err(|_| DuplicateIdError::new(policy.id().to_string(), None))?;
            }
        }
        buckets.insert(action.kind, bucket);
    }
    Ok(buckets)
}

/// One-line error text: Cedar's message and its causes
fn flatten(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(cause) = src {
        let _ = write!(s, ": {cause}");
        src = cause.source();
    }
    s.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policies_load_with_ids_reasons_and_vocabulary() {
        let p = Policies::shipped().unwrap();
        assert!(p.ids().len() >= 40, "{}", p.ids().len());
        assert_eq!(p.vocabulary().categories().len(), 14);
        assert_eq!(p.vocabulary().categories()[0].as_str(), "basis");
        assert_eq!(p.vocabulary().categories()[13].as_str(), "psychosociaal");
        assert_eq!(p.vocabulary().roles().len(), 12);
        assert_eq!(p.vocabulary().modules().len(), 3);
        assert_eq!(p.reason_of("forbid-without-mfa"), Some(Reason::MfaRequired));
        assert!(p.is_permit("permit-view-own-dossier"));
        assert!(p.content_hash().starts_with("sha256:"));
        for id in p.ids() {
            assert!(p.is_permit(id) || p.reason_of(id).is_some(), "{id}");
        }
    }

    #[test]
    fn every_policy_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| {
                std::path::Path::new(n)
                    .extension()
                    .is_some_and(|x| x == "cedar")
            })
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = SHIPPED_POLICIES
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .collect();
        assert_eq!(on_disk, embedded);
        // Beside them: the schema, the consent vocabulary (embedded too) and
        // the properties `zorg-pdp prove` reads; nothing else is read or shipped
        let mut others: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file() && p.extension().is_none_or(|x| x != "cedar"))
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        others.sort();
        assert_eq!(others, ["consent.toml", "properties.toml", SCHEMA_FILE]);
        assert_eq!(
            std::fs::read_to_string(std::path::Path::new(dir).join(CONSENT_FILE)).unwrap(),
            consent_vocab::SHIPPED_CONSENT
        );
        let from_dir = Policies::from_dir(dir).unwrap();
        assert_eq!(
            from_dir.content_hash(),
            Policies::shipped().unwrap().content_hash()
        );
    }

    #[test]
    fn rejects_forbid_without_reason_missing_id_unknown_reason_and_invalid_policy() {
        // A forbid, so that least privilege asks for nothing more
        let ok = "@id(\"p\") @reason(\"not_permitted\") forbid(principal, action, resource);";
        assert!(Policies::from_sources(SHIPPED_SCHEMA, [("a.cedar", ok)]).is_ok());
        let e = Policies::from_sources(
            SHIPPED_SCHEMA,
            [("a.cedar", "@id(\"f\") forbid(principal, action, resource);")],
        );
        assert!(matches!(e, Err(PolicyLoadError::Reason { .. })), "{e:?}");
        let e = Policies::from_sources(
            SHIPPED_SCHEMA,
            [("a.cedar", "permit(principal, action, resource);")],
        );
        assert!(
            matches!(e, Err(PolicyLoadError::Annotation { .. })),
            "{e:?}"
        );
        let e = Policies::from_sources(
            SHIPPED_SCHEMA,
            [(
                "a.cedar",
                "@id(\"f\") @reason(\"because\") forbid(principal, action, resource);",
            )],
        );
        assert!(matches!(e, Err(PolicyLoadError::Reason { .. })), "{e:?}");
        let e = Policies::from_sources(
            SHIPPED_SCHEMA,
            [(
                "a.cedar",
                "@id(\"p\") permit(principal, action == Action::\"view\", resource) when { context.age > 3 };",
            )],
        );
        assert!(matches!(e, Err(PolicyLoadError::Validation(_))), "{e:?}");
        let e = Policies::from_sources(
            SHIPPED_SCHEMA,
            [(
                "a.cedar",
                "@id(\"p\") permit(principal, action == Action::\"view\", resource) when { context.category == Category::\"wondzorg\" };",
            )],
        );
        assert!(
            matches!(e, Err(PolicyLoadError::Validation(_))),
            "typo in a category fails validation: {e:?}"
        );
        let deep = format!(
            "@id(\"d\") permit(principal, action, resource) when {{ {}true{} }};",
            "(".repeat(65),
            ")".repeat(65)
        );
        let e = Policies::from_sources(SHIPPED_SCHEMA, [("a.cedar", deep.as_str())]);
        assert!(matches!(e, Err(PolicyLoadError::TooDeep { .. })), "{e:?}");
        let fine = format!(
            "@id(\"d\") @reason(\"not_permitted\") forbid(principal, action, resource) when {{ {}true{} }};",
            "(".repeat(60),
            ")".repeat(60)
        );
        assert!(Policies::from_sources(SHIPPED_SCHEMA, [("a.cedar", fine.as_str())]).is_ok());
        let long = format!(
            "@id(\"d\") permit(principal, action, resource) when {{ true{} }};",
            " && true".repeat(2049)
        );
        let e = Policies::from_sources(SHIPPED_SCHEMA, [("a.cedar", long.as_str())]);
        assert!(
            matches!(e, Err(PolicyLoadError::TooComplex { .. })),
            "{e:?}"
        );
        let e = Policies::from_sources(SHIPPED_SCHEMA, [("a.cedar", ok), ("b.cedar", ok)]);
        assert!(matches!(e, Err(PolicyLoadError::DuplicateId(_))), "{e:?}");
    }

    #[test]
    fn validation_keeps_every_error_in_a_fixed_order() {
        let a = "@id(\"a-age\")\n\
                 permit(principal, action == Action::\"view\", resource) when { context.age > 3 };\n\
                 \n\
                 @id(\"a-category\")\n\
                 permit(principal, action == Action::\"view\", resource)\n\
                 when { context.category == Category::\"wondzorg\" };\n";
        let b = "// a typo in an attribute, and a fine policy\n\
                 @id(\"b-fine\") permit(principal, action == Action::\"share\", resource);\n\
                 @id(\"b-role\") permit(principal is Practitioner, action == Action::\"view\", resource)\n\
                 when { principal.rol == Role::\"huisarts\" };\n";
        let load = || match Policies::from_sources(SHIPPED_SCHEMA, [("b.cedar", b), ("a.cedar", a)])
        {
            Err(PolicyLoadError::Validation(errors)) => errors,
            other => panic!("{other:?}"),
        };
        let first = load();
        let located: Vec<(&str, usize, &str)> = first
            .iter()
            .map(|e| (e.file(), e.line(), e.policy_id()))
            .collect();
        assert_eq!(
            located,
            [
                ("a.cedar", 1, "a-age"),
                ("a.cedar", 4, "a-category"),
                ("b.cedar", 3, "b-role"),
            ],
            "{first}"
        );
        assert_eq!(first.len(), 3);
        for e in &first {
            assert!(!e.message().is_empty());
            assert!(!e.message().contains("for policy"), "{e}");
        }
        assert!(
            first.iter().next().unwrap().message().contains("age"),
            "{first}"
        );
        let text = first.to_string();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(
            text.lines()
                .nth(3)
                .unwrap()
                .starts_with("  `b.cedar` line 3, policy `b-role`: "),
            "{text}"
        );
        for _ in 0..20 {
            assert_eq!(load(), first);
        }
    }

    #[test]
    fn every_error_of_every_file_comes_at_once_in_a_fixed_order_with_its_place() {
        use miette::Diagnostic as _;
        let broken = "// a syntax error on line 3\n@id(\"b-1\")\npermit (principal, action, resource) when { 1 + };\n";
        let no_reason = "@id(\"c-1\")\nforbid (principal, action, resource);\n";
        let typo = "@id(\"a-1\")\npermit (principal is Practitioner, action == Action::\"view\", resource)\nwhen { principal.rol == Role::\"huisarts\" };\n";
        let load = || {
            Policies::from_sources(
                SHIPPED_SCHEMA,
                [
                    ("c.cedar", no_reason),
                    ("b.cedar", broken),
                    ("a.cedar", typo),
                ],
            )
            .unwrap_err()
        };
        let e = load();
        let PolicyLoadError::Several(all) = &e else {
            panic!("{e:?}");
        };
        // Each file's errors in name order, then strict validation's
        let kinds: Vec<&str> = all
            .iter()
            .map(|e| match e {
                PolicyLoadError::Parse(_) => "parse",
                PolicyLoadError::Reason(_) => "reason",
                PolicyLoadError::Validation(_) => "validation",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["parse", "reason", "validation"], "{e}");
        let places: Vec<String> = all
            .iter()
            .flat_map(|e| {
                let mut leaves: Vec<&dyn miette::Diagnostic> = Vec::new();
                match e.related() {
                    Some(r) => leaves.extend(r),
                    None => leaves.push(e),
                }
                leaves
                    .into_iter()
                    .map(|d| {
                        let label = d.labels().and_then(|mut l| l.next()).unwrap();
                        format!("{}+{}", label.offset(), label.len())
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(places.len(), 3, "{places:?}");
        let PolicyLoadError::Parse(parse) = all.iter().next().unwrap() else {
            unreachable!()
        };
        let at = parse.location().unwrap();
        assert_eq!(
            (at.file(), at.line(), at.column()),
            ("b.cedar", 3, 49),
            "{parse}"
        );
        let PolicyLoadError::Reason(reason) = all.iter().nth(1).unwrap() else {
            unreachable!()
        };
        assert_eq!(
            reason.location().map(|a| (a.line(), a.column())),
            Some((2, 1))
        );
        let PolicyLoadError::Validation(v) = all.iter().nth(2).unwrap() else {
            unreachable!()
        };
        let v = v.iter().next().unwrap();
        let at = v.location().unwrap();
        assert_eq!(
            (at.file(), at.line(), at.column()),
            ("a.cedar", 3, 8),
            "{v}"
        );
        assert_eq!(
            at.source_line(),
            "when { principal.rol == Role::\"huisarts\" };"
        );
        assert_eq!(&at.source_line()[7..20], "principal.rol");
        assert_eq!(
            v.line(),
            1,
            "the policy's own line stays the policy's start"
        );
        assert!(v.help().unwrap().to_string().contains("role"), "{v}");
        // Display lists each error; the same on every load
        let text = e.to_string();
        assert!(
            text.starts_with("the policies fail to load in 3 ways:"),
            "{text}"
        );
        assert!(text.contains("`b.cedar`: unexpected token"), "{text}");
        for _ in 0..10 {
            assert_eq!(load().to_string(), text);
        }
        // One error alone is that error, not `Several`
        let one = Policies::from_sources(SHIPPED_SCHEMA, [("c.cedar", no_reason)]).unwrap_err();
        assert!(matches!(one, PolicyLoadError::Reason(_)), "{one:?}");
    }

    #[test]
    fn schema_errors_are_located_in_the_schema() {
        let broken = SHIPPED_SCHEMA.replacen("entity Patient;", "entity Patient", 1);
        let e = Policies::from_sources(
            &broken,
            [(
                "a.cedar",
                "@id(\"p\") permit (principal, action, resource);",
            )],
        )
        .unwrap_err();
        let PolicyLoadError::Schema(s) = &e else {
            panic!("{e:?}");
        };
        let at = s.location().unwrap();
        assert_eq!(at.file(), SCHEMA_FILE);
        let line = SHIPPED_SCHEMA
            .lines()
            .position(|l| l == "entity Patient;")
            .unwrap()
            + 1;
        assert!(at.line() >= line, "{s}: {at}");
        // A dropped context attribute: the contract error points at the context type
        let dropped = SHIPPED_SCHEMA.replacen(
            "  relationship: Bool,             // relationship(o, x)\n  dossier_consent",
            "  dossier_consent",
            1,
        );
        let e = Policies::from_sources(
            &dropped,
            [(
                "a.cedar",
                "@id(\"p\") permit (principal, action, resource);",
            )],
        )
        .unwrap_err();
        let PolicyLoadError::Contract(c) = &e else {
            panic!("{e:?}");
        };
        let first = c.iter().next().unwrap();
        let at = first.location().unwrap();
        assert_eq!(at.source_line(), "type DataContext = {", "{first}");
    }

    #[test]
    fn duplicate_ids_point_at_both_policies() {
        let a = "@id(\"same\")\npermit (principal, action, resource);\n";
        let b = "// b\n@id(\"same\")\npermit (principal, action, resource);\n";
        let e =
            Policies::from_sources(SHIPPED_SCHEMA, [("a.cedar", a), ("b.cedar", b)]).unwrap_err();
        let PolicyLoadError::DuplicateId(d) = &e else {
            panic!("{e:?}");
        };
        let at = d.location().unwrap();
        assert_eq!((at.file(), at.line(), at.column()), ("b.cedar", 2, 1));
        assert_eq!(
            at.label(),
            Some("also the `@id` of the policy at a.cedar:1:1")
        );
    }

    #[test]
    fn a_missing_directory_keeps_the_operating_systems_error() {
        use std::error::Error as _;
        let dir = std::env::temp_dir().join(format!("zorg-pdp-no-policies-{}", std::process::id()));
        let e = Policies::from_dir(&dir).unwrap_err();
        let PolicyLoadError::Io(io) = &e else {
            panic!("{e:?}");
        };
        assert_eq!(io.path(), dir.as_path());
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        let source = e.source().and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(
            source.map(std::io::Error::kind),
            Some(std::io::ErrorKind::NotFound)
        );
        assert!(e.to_string().contains("zorg-pdp-no-policies"), "{e}");

        // A folder without a schema is a different error, with no source.
        let empty =
            std::env::temp_dir().join(format!("zorg-pdp-empty-policies-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let e = Policies::from_dir(&empty).unwrap_err();
        std::fs::remove_dir(&empty).unwrap();
        assert!(matches!(e, PolicyLoadError::NoSchema(_)), "{e:?}");
        assert!(e.source().is_none());
    }
}
