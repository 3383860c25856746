//! Loading the Cedar schema and policies: strict validation, `@id` and
//! `@reason` annotations, the vocabulary, the content hash.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{
    ActionConstraint, Effect, EntityUid, PolicyId, PolicySet, Schema, SchemaFragment,
    ValidationMode, Validator,
};
use hashbrown::HashMap;
use sha2::{Digest, Sha256};

use crate::model::ids::{CareModule, Category, Role, Task};
use crate::model::vocab::{ActionKind, Reason, Vocabulary};

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

/// Why a policy set did not load
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyLoadError {
    /// A file could not be read
    #[error("cannot read `{path}`: {message}")]
    Io {
        /// The path
        path: String,
        /// The operating system's message
        message: String,
    },
    /// A file is larger than [`MAX_POLICY_FILE_LEN`]
    #[error("`{file}` is {size} bytes, more than the limit of {MAX_POLICY_FILE_LEN}")]
    TooLarge {
        /// The file
        file: String,
        /// Its size
        size: usize,
    },
    /// The directory has no schema file
    #[error("no `{SCHEMA_FILE}` in `{0}`")]
    NoSchema(String),
    /// A file nests brackets deeper than [`MAX_POLICY_NESTING`]
    #[error("`{file}` nests brackets deeper than {MAX_POLICY_NESTING}")]
    TooDeep {
        /// The file
        file: String,
    },
    /// A policy holds more than [`MAX_POLICY_OPERATORS`] operator characters
    #[error("`{file}`: a policy has more than {MAX_POLICY_OPERATORS} operators")]
    TooComplex {
        /// The file
        file: String,
    },
    /// The schema does not parse
    #[error("schema: {0}")]
    Schema(String),
    /// The vocabulary in the schema is missing or malformed
    #[error("schema: vocabulary: {0}")]
    Vocabulary(String),
    /// A policy file does not parse
    #[error("`{file}`: {message}")]
    Parse {
        /// The file
        file: String,
        /// Cedar's message
        message: String,
    },
    /// A policy lacks `@id`, or a policy file holds a template
    #[error("`{file}`: {message}")]
    Annotation {
        /// The file
        file: String,
        /// What is wrong
        message: String,
    },
    /// Two policies share an `@id`
    #[error("policy id `{0}` is used twice")]
    DuplicateId(String),
    /// A `forbid` lacks `@reason`, or names an unknown reason code
    #[error("policy `{id}`: {message}")]
    Reason {
        /// The policy id
        id: String,
        /// What is wrong
        message: String,
    },
    /// A policy does not validate strictly against the schema
    #[error("strict validation failed: {0}")]
    Validation(String),
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
    /// [`PolicyLoadError`] naming the file when one cannot be read, parsed or validated.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, PolicyLoadError> {
        let dir = dir.as_ref();
        let read = |path: &Path| -> Result<String, PolicyLoadError> {
            let io = |e: std::io::Error| PolicyLoadError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            };
            let len = std::fs::metadata(path).map_err(io)?.len();
            if len > MAX_POLICY_FILE_LEN as u64 {
                return Err(PolicyLoadError::TooLarge {
                    file: path.display().to_string(),
                    size: usize::try_from(len).unwrap_or(usize::MAX),
                });
            }
            std::fs::read_to_string(path).map_err(io)
        };
        let schema_path = dir.join(SCHEMA_FILE);
        if !schema_path.is_file() {
            return Err(PolicyLoadError::NoSchema(dir.display().to_string()));
        }
        let schema = read(&schema_path)?;
        let mut files = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| PolicyLoadError::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| PolicyLoadError::Io {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?;
            let path = entry.path();
            if path.extension().is_some_and(|x| x == "cedar") {
                let name = entry.file_name().to_string_lossy().into_owned();
                files.push((name, read(&path)?));
            }
        }
        files.sort();
        Self::from_sources(&schema, files.iter().map(|(n, t)| (n.as_str(), t.as_str())))
    }

    /// Builds a policy set from a schema text and named policy texts
    ///
    /// # Errors
    ///
    /// [`PolicyLoadError`] naming the file or policy at fault.
    #[expect(
        clippy::too_many_lines,
        reason = "split by the policy-loading work (issue 12)"
    )]
    pub fn from_sources<'a>(
        schema_text: &str,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, PolicyLoadError> {
        if schema_text.len() > MAX_POLICY_FILE_LEN {
            return Err(PolicyLoadError::TooLarge {
                file: SCHEMA_FILE.into(),
                size: schema_text.len(),
            });
        }
        let (schema, _warnings) = Schema::from_cedarschema_str(schema_text)
            .map_err(|e| PolicyLoadError::Schema(flatten(&e)))?;
        let vocabulary = vocabulary_of(schema_text)?;

        let mut hasher = Sha256::new();
        hasher.update(b"schema\0");
        hasher.update(schema_text.as_bytes());
        let mut set = PolicySet::new();
        let mut info = HashMap::new();
        let mut ids = Vec::new();
        let mut sorted: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, text) in files {
            sorted.insert(name, text);
        }
        for (name, text) in sorted {
            if text.len() > MAX_POLICY_FILE_LEN {
                return Err(PolicyLoadError::TooLarge {
                    file: name.into(),
                    size: text.len(),
                });
            }
            check_shape(text, name)?;
            hasher.update(b"\0file\0");
            hasher.update(name.as_bytes());
            hasher.update(b"\0");
            hasher.update(text.as_bytes());
            let parsed = PolicySet::from_str(text).map_err(|e| PolicyLoadError::Parse {
                file: name.into(),
                message: flatten(&e),
            })?;
            if parsed.templates().next().is_some() {
                return Err(PolicyLoadError::Annotation {
                    file: name.into(),
                    message: "templates are not supported".into(),
                });
            }
            let mut in_file: Vec<_> = parsed.policies().collect();
            in_file.sort_by_key(|p| p.id().to_string());
            for policy in in_file {
                let id = policy
                    .annotation("id")
                    .ok_or_else(|| PolicyLoadError::Annotation {
                        file: name.into(),
                        message: format!(
                            "a policy has no `@id` annotation: `{}`",
                            head(&policy.to_string())
                        ),
                    })?;
                crate::model::ids::check_id(id).map_err(|e| PolicyLoadError::Annotation {
                    file: name.into(),
                    message: format!("`@id`: {e}"),
                })?;
                if info.contains_key(id) {
                    return Err(PolicyLoadError::DuplicateId(id.into()));
                }
                let reason =
                    match (policy.effect(), policy.annotation("reason")) {
                        (Effect::Forbid, None) => {
                            return Err(PolicyLoadError::Reason {
                                id: id.into(),
                                message: "a forbid needs a `@reason` annotation".into(),
                            });
                        }
                        (_, Some(code)) => Some(Reason::from_name(code).ok_or_else(|| {
                            PolicyLoadError::Reason {
                                id: id.into(),
                                message: format!(
                                    "`@reason(\"{code}\")` is not a reason code of SPEC.md"
                                ),
                            }
                        })?),
                        (Effect::Permit, None) => None,
                    };
                let renamed = policy.new_id(PolicyId::new(id));
                set.add(renamed).map_err(|e| PolicyLoadError::Parse {
                    file: name.into(),
                    message: flatten(&e),
                })?;
                info.insert(
                    id.to_owned(),
                    PolicyInfo {
                        effect: policy.effect(),
                        reason,
                    },
                );
                ids.push(id.to_owned());
            }
        }
        let result = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
        if !result.validation_passed() {
            let msgs: Vec<String> = result.validation_errors().map(|e| flatten(e)).collect();
            return Err(PolicyLoadError::Validation(msgs.join("; ")));
        }
        ids.sort();
        let buckets = bucket_by_action(&schema, &set)?;
        let digest: [u8; 32] = hasher.finalize().into();
        let content_hash = version_of(&digest);
        Ok(Self {
            schema,
            set,
            info,
            buckets,
            vocabulary,
            ids,
            digest,
            content_hash,
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
    s.push_str(&crate::audit::hex(digest));
    s
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
        .map_err(|e| PolicyLoadError::Schema(flatten(&e)))?;
    let mut buckets = HashMap::new();
    for &action in ActionKind::ALL {
        let uid = EntityUid::from_str(&format!("Action::\"{}\"", action.as_str()))
            .map_err(|e| PolicyLoadError::Schema(flatten(&e)))?;
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
                bucket
                    .add(policy.clone())
                    .map_err(|e| PolicyLoadError::Validation(flatten(&e)))?;
            }
        }
        buckets.insert(action, bucket);
    }
    Ok(buckets)
}

/// Refuses text that nests brackets deeper than [`MAX_POLICY_NESTING`] or has
/// a policy with more than [`MAX_POLICY_OPERATORS`] operators, before Cedar's
/// recursive parser sees it
fn check_shape(text: &str, file: &str) -> Result<(), PolicyLoadError> {
    let (mut depth, mut max_depth) = (0usize, 0usize);
    let (mut ops, mut max_ops) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ';' => ops = 0,
            '!' | '&' | '|' | '+' | '-' | '*' | '<' | '>' | '=' | '.' => {
                ops += 1;
                max_ops = max_ops.max(ops);
            }
            _ => {}
        }
    }
    if max_depth > MAX_POLICY_NESTING {
        return Err(PolicyLoadError::TooDeep { file: file.into() });
    }
    if max_ops > MAX_POLICY_OPERATORS {
        return Err(PolicyLoadError::TooComplex { file: file.into() });
    }
    Ok(())
}

/// The first line of a policy, for error messages
fn head(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('@'))
        .unwrap_or("")
        .chars()
        .take(80)
        .collect()
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

/// The values of one enumerated entity type
fn list<T>(
    types: &serde_json::Value,
    name: &str,
    make: fn(&str) -> Result<T, crate::model::ids::IdError>,
) -> Result<Vec<T>, PolicyLoadError> {
    let values = types
        .get(name)
        .and_then(|t| t.get("enum"))
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| {
            PolicyLoadError::Vocabulary(format!("`{name}` must be an enumerated entity type"))
        })?;
    values
        .iter()
        .map(|v| {
            let s = v.as_str().ok_or_else(|| {
                PolicyLoadError::Vocabulary(format!("`{name}`: values must be strings"))
            })?;
            make(s).map_err(|e| PolicyLoadError::Vocabulary(format!("`{name}`: {e}")))
        })
        .collect()
}

/// Reads the enumerated entity types `Role`, `Task`, `Category` and `CareModule`
fn vocabulary_of(schema_text: &str) -> Result<Vocabulary, PolicyLoadError> {
    let (fragment, _) = SchemaFragment::from_cedarschema_str(schema_text)
        .map_err(|e| PolicyLoadError::Schema(flatten(&e)))?;
    let json = fragment
        .to_json_value()
        .map_err(|e| PolicyLoadError::Schema(flatten(&e)))?;
    let types = json
        .get("")
        .and_then(|ns| ns.get("entityTypes"))
        .ok_or_else(|| {
            PolicyLoadError::Vocabulary(
                "the schema must declare its types outside any namespace".into(),
            )
        })?;
    Ok(Vocabulary::new(
        list(types, "Role", Role::new)?,
        list(types, "Task", Task::new)?,
        list(types, "Category", Category::new)?,
        list(types, "CareModule", CareModule::new)?,
    ))
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
}
