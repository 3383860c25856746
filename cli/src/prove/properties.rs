//! The properties file (`policies/properties.toml`, docs/prove.md): reading
//! it, checking every field, and turning each bound into a Cedar policy set
//! validated against the policies' schema.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{Policy, PolicyId, PolicySet, Schema, ValidationMode, Validator};
use miette::Diagnostic;
use serde::Deserialize;
use toml::Spanned;

/// The properties shipped with the CLI (`policies/properties.toml` at build time)
pub(crate) const SHIPPED: &str = include_str!("../../../policies/properties.toml");

/// The properties file's name in a policy folder
pub(crate) const FILE_NAME: &str = "properties.toml";

/// The largest properties file read, in bytes
const MAX_LEN: u64 = 1024 * 1024;

/// A properties file that cannot be used; each message names the file, the
/// line and, where there is one, the property, the field and the value
#[derive(Debug, thiserror::Error)]
pub(crate) enum PropertiesError {
    /// The file cannot be read
    #[error("{file}: cannot read the properties file: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_LEN`]
    #[error("{file}: the properties file is larger than {MAX_LEN} bytes")]
    TooLarge { file: String },
    /// Not TOML, or not the shape of a properties file
    #[error("{file}:{line}: {message}")]
    Toml {
        file: String,
        line: usize,
        message: String,
    },
    /// A field whose value is not accepted
    #[error("{file}:{line}: property `{property}`, field `{field}` = `{value}`: {message}")]
    Field {
        file: String,
        line: usize,
        property: String,
        field: &'static str,
        value: String,
        message: String,
    },
    /// A Cedar text (a `bound` or a `[shared]` entry) that does not parse or
    /// does not validate against the schema
    #[error("{file}:{line}: {place}: {message}")]
    Cedar {
        file: String,
        line: usize,
        /// `property `x`, field `bound`` or `[shared] entry `y``
        place: String,
        message: String,
    },
    /// No `[[property]]` at all
    #[error("{file}: no `[[property]]` in the properties file")]
    Empty { file: String },
}

/// What a property checks
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Every request the policies allow, the bound allows
    Implies,
    /// No policy errors on any input
    NeverErrors,
    /// No policy reads an attribute the engine does not supply
    SuppliedFacts,
}

impl Check {
    const NAMES: [&'static str; 3] = ["implies", "never_errors", "supplied_facts"];

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "implies" => Some(Self::Implies),
            "never_errors" => Some(Self::NeverErrors),
            "supplied_facts" => Some(Self::SuppliedFacts),
            _ => None,
        }
    }
}

/// Where a bound policy was written: for messages about it
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    /// `properties.toml:23`
    pub(crate) at: String,
    /// The property or the `[shared]` entry it belongs to
    pub(crate) place: String,
}

/// One property, checked and ready to prove
#[derive(Debug)]
pub(crate) struct Property {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) rules: Vec<String>,
    pub(crate) check: Check,
    /// The bound (with every `uses` entry) for [`Check::Implies`], else empty
    pub(crate) bound: PolicySet,
    /// Where each policy of `bound` was written, by its id
    pub(crate) origins: BTreeMap<String, Origin>,
    /// Only request environments of these actions (`None`: every action)
    pub(crate) actions: Option<Vec<String>>,
    /// Only request environments of these principal types (`None`: every type)
    pub(crate) principals: Option<Vec<String>>,
}

/// A checked properties file
#[derive(Debug)]
pub(crate) struct Properties {
    /// How the file is named in messages
    pub(crate) file: String,
    pub(crate) properties: Vec<Property>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    shared: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    property: Vec<RawProperty>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProperty {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    rules: Vec<String>,
    check: Spanned<String>,
    bound: Option<Spanned<String>>,
    #[serde(default)]
    uses: Vec<Spanned<String>>,
    actions: Option<Vec<Spanned<String>>>,
    principals: Option<Vec<Spanned<String>>>,
}

/// Reads a properties file (at most [`MAX_LEN`] bytes)
pub(crate) fn read(path: &Path) -> Result<String, PropertiesError> {
    use std::io::Read as _;
    let file = path.display().to_string();
    let read_error = |source| PropertiesError::Read {
        file: file.clone(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(read_error)?
        .take(MAX_LEN + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    if text.len() as u64 > MAX_LEN {
        return Err(PropertiesError::TooLarge { file });
    }
    Ok(text)
}

/// Parses and checks a properties file against the schema of the policies
/// it is about; `file` is how messages name it
pub(crate) fn parse(
    text: &str,
    file: &str,
    schema: &Schema,
) -> Result<Properties, PropertiesError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| PropertiesError::Toml {
        file: file.to_owned(),
        line: e.span().map_or(1, |s| line_at(text, s.start)),
        message: e.message().trim().to_owned(),
    })?;
    if raw.property.is_empty() {
        return Err(PropertiesError::Empty {
            file: file.to_owned(),
        });
    }
    let ctx = Ctx { text, file, schema };
    let mut shared = BTreeMap::new();
    for (name, cedar) in &raw.shared {
        let place = format!("[shared] entry `{name}`");
        shared.insert(
            name.as_str(),
            ctx.cedar(cedar, &place, &format!("shared:{name}"))?,
        );
    }
    let mut seen = HashSet::new();
    let mut properties = Vec::new();
    for p in &raw.property {
        properties.push(ctx.property(p, &shared, &mut seen)?);
    }
    Ok(Properties {
        file: file.to_owned(),
        properties,
    })
}

/// A parsed Cedar text with the origin of each of its policies
type Parsed = (PolicySet, BTreeMap<String, Origin>);

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
    schema: &'a Schema,
}

impl Ctx<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        line_at(self.text, span.start)
    }

    fn field_error(
        &self,
        span: Range<usize>,
        property: &str,
        field: &'static str,
        value: &str,
        message: impl Into<String>,
    ) -> PropertiesError {
        PropertiesError::Field {
            file: self.file.to_owned(),
            line: self.line(span),
            property: property.to_owned(),
            field,
            value: value.to_owned(),
            message: message.into(),
        }
    }

    fn property(
        &self,
        p: &RawProperty,
        shared: &BTreeMap<&str, Parsed>,
        seen: &mut HashSet<String>,
    ) -> Result<Property, PropertiesError> {
        let name = p.name.get_ref().as_str();
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !name_ok {
            return Err(self.field_error(
                p.name.span(),
                name,
                "name",
                name,
                "a property name is 1 to 64 of `a-z`, `0-9`, `-`, `_`",
            ));
        }
        if !seen.insert(name.to_owned()) {
            return Err(self.field_error(
                p.name.span(),
                name,
                "name",
                name,
                "another property has this name",
            ));
        }
        let check = Check::from_name(p.check.get_ref()).ok_or_else(|| {
            self.field_error(
                p.check.span(),
                name,
                "check",
                p.check.get_ref(),
                format!("not a check; known: {}", Check::NAMES.join(", ")),
            )
        })?;
        let actions = self.names(p.actions.as_deref(), name, "actions", &self.action_names())?;
        let principals = self.names(
            p.principals.as_deref(),
            name,
            "principals",
            &self.principal_names(),
        )?;
        let (bound, origins) = self.bound(p, name, check, shared)?;
        Ok(Property {
            name: name.to_owned(),
            description: p
                .description
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            rules: p.rules.clone(),
            check,
            bound,
            origins,
            actions,
            principals,
        })
    }

    /// The bound of a property (with its `uses`), checked against its `check`
    fn bound(
        &self,
        p: &RawProperty,
        name: &str,
        check: Check,
        shared: &BTreeMap<&str, Parsed>,
    ) -> Result<Parsed, PropertiesError> {
        Ok(match (check, &p.bound) {
            (Check::Implies, Some(bound)) => {
                let place = format!("property `{name}`, field `bound`");
                let (mut set, mut origins) = self.cedar(bound, &place, &format!("bound:{name}"))?;
                for used in &p.uses {
                    let Some((uses, from)) = shared.get(used.get_ref().as_str()) else {
                        let known: Vec<&str> = shared.keys().copied().collect();
                        return Err(self.field_error(
                            used.span(),
                            name,
                            "uses",
                            used.get_ref(),
                            format!(
                                "no such `[shared]` entry; known: {}",
                                if known.is_empty() {
                                    "none".to_owned()
                                } else {
                                    known.join(", ")
                                }
                            ),
                        ));
                    };
                    for policy in uses.policies() {
                        // Ids are unique per entry, and entries and bounds are
                        // prefixed apart; a repeated `uses` adds nothing new
                        let _ = set.add(policy.clone());
                    }
                    origins.extend(from.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                (set, origins)
            }
            (Check::Implies, None) => {
                return Err(self.field_error(
                    p.check.span(),
                    name,
                    "check",
                    "implies",
                    "`implies` needs a `bound` (Cedar policies every allowed request must satisfy)",
                ));
            }
            (_, Some(bound)) => {
                return Err(self.field_error(
                    bound.span(),
                    name,
                    "bound",
                    "…",
                    format!(
                        "only `check = \"implies\"` takes a bound, not `{}`",
                        p.check.get_ref()
                    ),
                ));
            }
            (_, None) => {
                if let Some(used) = p.uses.first() {
                    return Err(self.field_error(
                        used.span(),
                        name,
                        "uses",
                        used.get_ref(),
                        "only `check = \"implies\"` uses `[shared]` entries",
                    ));
                }
                (PolicySet::new(), BTreeMap::new())
            }
        })
    }

    /// Every action the schema declares, by name
    fn action_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .schema
            .actions()
            .map(|a| a.id().unescaped().to_owned())
            .collect();
        names.sort();
        names
    }

    /// Every principal type of some action the schema declares
    fn principal_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .schema
            .request_envs()
            .map(|e| e.principal().to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// A list of names, each of which must be in `known`
    fn names(
        &self,
        list: Option<&[Spanned<String>]>,
        property: &str,
        field: &'static str,
        known: &[String],
    ) -> Result<Option<Vec<String>>, PropertiesError> {
        let Some(list) = list else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for item in list {
            if !known.iter().any(|k| k == item.get_ref()) {
                return Err(self.field_error(
                    item.span(),
                    property,
                    field,
                    item.get_ref(),
                    format!(
                        "the schema declares no such name; known: {}",
                        known.join(", ")
                    ),
                ));
            }
            out.push(item.get_ref().clone());
        }
        if out.is_empty() {
            // An empty filter would select nothing and prove nothing
            return Err(PropertiesError::Field {
                file: self.file.to_owned(),
                line: list.first().map_or(1, |i| self.line(i.span())),
                property: property.to_owned(),
                field,
                value: "[]".to_owned(),
                message:
                    "an empty list selects no request environment; leave the field out for all"
                        .to_owned(),
            });
        }
        Ok(Some(out))
    }

    /// Parses a Cedar text of the file and validates it strictly against
    /// the schema; each policy gets the id `{prefix}:{n}`
    fn cedar(
        &self,
        cedar: &Spanned<String>,
        place: &str,
        prefix: &str,
    ) -> Result<Parsed, PropertiesError> {
        let source = cedar.get_ref();
        // Line of the Cedar text's first line in the file: the line of the
        // opening quotes, one more when a newline follows them (TOML drops it)
        let span = cedar.span();
        let raw = self.text.get(span.clone()).unwrap_or_default();
        let first_line = self.line(span.clone())
            + usize::from(
                (raw.starts_with("'''") || raw.starts_with("\"\"\""))
                    && raw
                        .get(3..)
                        .is_some_and(|r| r.starts_with('\n') || r.starts_with("\r\n")),
            );
        let line_in = |offset: Option<usize>| {
            first_line
                + offset.map_or(0, |o| {
                    source
                        .get(..o)
                        .map_or(0, |before| before.matches('\n').count())
                })
        };
        let error = |offset: Option<usize>, message: String| PropertiesError::Cedar {
            file: self.file.to_owned(),
            line: line_in(offset),
            place: place.to_owned(),
            message,
        };
        let parsed = PolicySet::from_str(source).map_err(|e| {
            let first = e.iter().next();
            let offset = first.and_then(|f| first_offset(f));
            error(
                offset,
                one_line(&e.to_string(), first.map(|f| f as &dyn Diagnostic)),
            )
        })?;
        if parsed.templates().next().is_some() {
            return Err(error(
                None,
                "templates are not supported in a bound".to_owned(),
            ));
        }
        // In source order (Cedar names them `policy0`, `policy1`, …), renamed
        // apart from the policies and each other
        let ordinal = |p: &Policy| {
            p.id()
                .to_string()
                .strip_prefix("policy")
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(usize::MAX)
        };
        let mut policies: Vec<&Policy> = parsed.policies().collect();
        policies.sort_by_key(|p| ordinal(p));
        let mut set = PolicySet::new();
        let mut origins = BTreeMap::new();
        let mut from = 0;
        for (n, policy) in policies.into_iter().enumerate() {
            let id = format!("{prefix}:{}", n + 1);
            // A parsed policy displays as written: find it after the previous one
            let written = policy.to_string();
            let offset = source
                .get(from..)
                .and_then(|rest| rest.find(&written))
                .map(|i| from + i);
            if let Some(at) = offset {
                from = at + written.len();
            }
            origins.insert(
                id.clone(),
                Origin {
                    at: format!("{}:{}", self.file, line_in(offset)),
                    place: place.to_owned(),
                },
            );
            set.add(policy.new_id(PolicyId::new(&id)))
                .map_err(|e| error(None, e.to_string()))?;
        }
        let result = Validator::new(self.schema.clone()).validate(&set, ValidationMode::Strict);
        if let Some(first) = result.validation_errors().next() {
            let mut message = first.to_string();
            if let Some(help) = first.help() {
                let _ = write!(message, " ({help})");
            }
            let count = result.validation_errors().count();
            if count > 1 {
                let _ = write!(message, "; and {} more", count - 1);
            }
            return Err(error(first_offset(first), message));
        }
        Ok((set, origins))
    }
}

/// The byte offset where a Cedar diagnostic points, if it does
fn first_offset(d: &dyn Diagnostic) -> Option<usize> {
    d.labels()
        .and_then(|mut labels| labels.next())
        .map(|l| l.offset())
}

/// A message on one line, with the diagnostic's help when it has one
fn one_line(message: &str, d: Option<&dyn Diagnostic>) -> String {
    let mut s = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(help) = d.and_then(Diagnostic::help) {
        let _ = write!(s, " ({help})");
    }
    s
}

/// The 1-based line of byte `offset` in `text`
fn line_at(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |t| t.matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        zorg_pdp::Policies::shipped()
            .unwrap()
            .cedar_schema()
            .clone()
    }

    fn error(text: &str) -> String {
        match parse(text, "p.toml", &schema()) {
            Ok(p) => panic!("accepted: {p:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_shipped_properties_parse_with_their_bounds() {
        let p = parse(SHIPPED, "properties.toml", &schema()).unwrap();
        let names: Vec<&str> = p.properties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "another-holders-data-needs-grounds",
                "two-factors-for-people",
                "kraamverzorgende-birth-care-only",
                "reads-only-supplied-facts",
                "policies-never-error",
            ]
        );
        let first = p.properties.first().unwrap();
        // The bound's two policies and the shared matrix
        assert_eq!(first.bound.policies().count(), 3);
        assert!(
            first
                .origins
                .values()
                .any(|o| o.place.contains("spec-matrix"))
        );
        assert_eq!(
            first.actions.as_deref(),
            Some(&["view".to_owned(), "view_record".to_owned()][..])
        );
    }

    #[test]
    fn each_mistake_names_the_line_the_field_and_the_value() {
        let e = error("[[property]]\nname = \"a\"\ncheck = \"imply\"\n");
        assert!(
            e.starts_with("p.toml:3: property `a`, field `check` = `imply`: not a check"),
            "{e}"
        );
        let e = error("[[property]]\nname = \"a\"\ncheck = \"implies\"\n");
        assert!(
            e.starts_with("p.toml:3:") && e.contains("needs a `bound`"),
            "{e}"
        );
        let e =
            error("[[property]]\nname = \"a\"\ncheck = \"never_errors\"\nactions = [\"vieuw\"]\n");
        assert!(
            e.starts_with("p.toml:4: property `a`, field `actions` = `vieuw`"),
            "{e}"
        );
        let e = error("[[property]]\nname = \"a\"\ncheck = \"never_errors\"\ncolour = 1\n");
        assert!(e.starts_with("p.toml:4: ") && e.contains("colour"), "{e}");
        let e = error(
            "[[property]]\nname = \"a\"\ncheck = \"never_errors\"\n[[property]]\nname = \"a\"\ncheck = \"never_errors\"\n",
        );
        assert!(e.starts_with("p.toml:5: property `a`, field `name`"), "{e}");
        let e = error("");
        assert_eq!(e, "p.toml: no `[[property]]` in the properties file");
    }

    #[test]
    fn a_cedar_error_is_placed_on_its_line_of_the_file() {
        let text = "[[property]]\nname = \"a\"\ncheck = \"implies\"\nbound = '''\npermit (principal, action, resource);\nforbid (principal, action, resource)\nwhen { context.mfaa };\n'''\n";
        let e = error(text);
        assert!(
            e.starts_with("p.toml:7: property `a`, field `bound`: "),
            "{e}"
        );
        assert!(e.contains("mfaa"), "{e}");
        let text = "[[property]]\nname = \"a\"\ncheck = \"implies\"\nbound = '''\npermit (principal, action, resource)\nwhen { context.mfa &&& true };\n'''\n";
        let e = error(text);
        assert!(
            e.starts_with("p.toml:6: property `a`, field `bound`: "),
            "{e}"
        );
    }
}
