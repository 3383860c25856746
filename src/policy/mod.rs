//! Loading the Cedar schema and policies: strict validation, `@id` and
//! `@reason` annotations, the vocabulary, the content hash.

mod contract;
mod error;
mod introspect;
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

pub use error::PolicyLoadError;

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

    /// Loads `zorg.cedarschema` and every `*.cedar` file of a directory
    ///
    /// # Errors
    ///
    /// [`PolicyLoadError::Io`] (with the operating system's error as its
    /// source) when the directory or a file cannot be read,
    /// [`PolicyLoadError::NoSchema`] when the directory has no schema, and
    /// otherwise as [`Policies::from_sources`].
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, PolicyLoadError> {
        let (schema, files) = read::read_dir(dir.as_ref())?;
        Self::from_sources(&schema, files.iter().map(|(n, t)| (n.as_str(), t.as_str())))
    }

    /// Builds a policy set from a schema text and named policy texts
    ///
    /// Files are read in name order; a later file of the same name replaces
    /// an earlier one.
    ///
    /// # Errors
    ///
    /// [`PolicyLoadError`] naming the file or policy at fault: the first
    /// file that is too large, too deep, does not parse or lacks an
    /// annotation; [`PolicyLoadError::Contract`] with every way the schema
    /// does not accept what the engine sends; [`PolicyLoadError::Validation`]
    /// with every strict-validation error.
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
    /// # Ok::<(), PolicyLoadError>(())
    /// ```
    pub fn from_sources<'a>(
        schema_text: &str,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, PolicyLoadError> {
        let (schema, vocabulary) = vocabulary::parse_schema(schema_text)?;
        contract::check(&schema, schema_text, &vocabulary)?;
        let files: BTreeMap<&str, &str> = files.into_iter().collect();
        let mut loaded = load::Loaded::default();
        for (&name, &text) in &files {
            loaded.add_file(name, text)?;
        }
        validate::strictly(&schema, &loaded)?;
        let buckets = bucket_by_action(&schema, &loaded.set)?;
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

    /// Whether the policy is a `permit`
    pub fn is_permit(&self, id: &str) -> bool {
        self.info
            .get(id)
            .is_some_and(|i| i.effect == Effect::Permit)
    }

    /// `sha256:` and the hex SHA-256 of the schema and every policy file (name and text), in name order
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// The SHA-256 behind [`Policies::content_hash`]
    pub(crate) fn digest(&self) -> [u8; 32] {
        self.digest
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

/// Sorts policies into one bucket per action: a policy belongs to the bucket
/// of action `a` when its action scope is unconstrained, or names `a` or an
/// action group `a` belongs to (by the schema's action hierarchy). A policy
/// outside the bucket cannot match a request for `a`, so evaluating the
/// bucket gives exactly Cedar's answer for the whole set.
fn bucket_by_action(
    schema: &Schema,
    set: &PolicySet,
) -> Result<HashMap<ActionKind, PolicySet>, PolicyLoadError> {
    let actions = schema
        .action_entities()
        .map_err(|e| SchemaError::new(flatten(&e)))?;
    let mut buckets = HashMap::new();
    for &action in ActionKind::ALL {
        let uid = EntityUid::from_str(&format!("Action::\"{}\"", action.as_str()))
            .map_err(|e| SchemaError::new(flatten(&e)))?;
        let mut scope: Vec<EntityUid> = vec![uid.clone()];
        if let Some(ancestors) = actions.ancestors(&uid) {
            scope.extend(ancestors.cloned());
        }
        let mut bucket = PolicySet::new();
        for policy in set.policies() {
            let applies = match policy.action_constraint() {
                ActionConstraint::Any => true,
                ActionConstraint::Eq(a) => a == uid,
                ActionConstraint::In(list) => list.iter().any(|a| scope.contains(a)),
            };
            if applies {
                // Only a repeated id can fail here, and `set` has none.
                bucket
                    .add(policy.clone())
                    .map_err(|_| DuplicateIdError::new(policy.id().to_string()))?;
            }
        }
        buckets.insert(action, bucket);
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
        let from_dir = Policies::from_dir(dir).unwrap();
        assert_eq!(
            from_dir.content_hash(),
            Policies::shipped().unwrap().content_hash()
        );
    }

    #[test]
    fn rejects_forbid_without_reason_missing_id_unknown_reason_and_invalid_policy() {
        let ok = "@id(\"p\") permit(principal, action, resource);";
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
            "@id(\"d\") permit(principal, action, resource) when {{ {}true{} }};",
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
