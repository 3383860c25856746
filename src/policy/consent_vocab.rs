//! The consent vocabulary file (`consent.toml`, SPEC.md §7.2), read with the
//! TOML parser's spans and checked against the schema's categories: every
//! error at once, each at its field (docs/consent-vocabulary.md).

use std::borrow::Cow;
use std::ops::Range;

use hashbrown::HashMap;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::policy_load_errors::{
    ConsentErrorKind as Kind, ConsentVocabularyError, ConsentVocabularyErrors,
};
use super::{PolicyLoadError, load};
use crate::diagnostic::{Location, Source};
use crate::model::consent_vocab::{ConsentVocabulary, DataEntry, HolderEntry, RequesterEntry};
use crate::model::ids::{
    Category, DataCategory, HolderCategory, IdError, ProviderType, RequesterCategory,
};

/// The shipped consent vocabulary, embedded like the policies
pub(super) const SHIPPED_CONSENT: &str = include_str!("../../policies/consent.toml");

/// The name errors give the shipped consent vocabulary when a policy set
/// without a `consent.toml` falls back to it
pub(super) const SHIPPED_NAME: &str = "<shipped consent.toml>";

/// The top-level tables of the file
const TABLES: [&str; 4] = [
    "data_categories",
    "category_data",
    "requester_categories",
    "holder_categories",
];

/// The hint every error of the shipped fallback carries
const FALLBACK_HELP: &str = "the policy set has no `consent.toml`, so the shipped one applies; \
     put a `consent.toml` beside `zorg.cedarschema` (start from the shipped `policies/consent.toml`)";

/// A key of a table and its value
type Entry<'a, 'i> = (&'a Spanned<Cow<'i, str>>, &'a Spanned<DeValue<'i>>);

/// Reads and checks a consent vocabulary. `categories` are the schema's, in
/// canonical order; `None` when the schema did not load, and then the checks
/// that need them are left out and no vocabulary is built (`Ok(None)`).
/// `fallback`: the shipped file standing in for a missing one.
pub(super) fn parse(
    source: &Source,
    categories: Option<&[Category]>,
    fallback: bool,
) -> Result<Option<ConsentVocabulary>, PolicyLoadError> {
    let text: &str = source.inner();
    load::check_len(source.name(), text.len())?;
    let mut c = Checker {
        source,
        errors: Vec::new(),
    };
    let (root, syntax) = DeTable::parse_recoverable(text);
    let vocabulary = if syntax.is_empty() {
        c.vocabulary(root.get_ref(), categories)
    } else {
        for e in &syntax {
            let message = e.message().trim().replace('\n', " ");
            c.error(Kind::Syntax, "", message, e.span(), None, None);
        }
        None
    };
    let mut errors = c.errors;
    if fallback {
        errors = errors
            .into_iter()
            .map(|e| e.with_help(Some(FALLBACK_HELP.to_owned())))
            .collect();
    }
    match ConsentVocabularyErrors::new(errors) {
        Some(e) => Err(e.into()),
        None => Ok(vocabulary),
    }
}

/// The errors found so far, each at its place in `source`
struct Checker<'s> {
    source: &'s Source,
    errors: Vec<ConsentVocabularyError>,
}

/// One entry of a table of declarations: its code, where its key is, its
/// display name and its table
struct Declared<'v, 'i, T> {
    code: T,
    key: Range<usize>,
    name: String,
    /// `None` when the value is not a table (an error already)
    entry: Option<&'v DeTable<'i>>,
}

impl Checker<'_> {
    /// Adds an error at `span` (if known) with a label under the caret and a hint
    fn error(
        &mut self,
        kind: Kind,
        field: &str,
        message: impl Into<String>,
        span: Option<Range<usize>>,
        label: Option<&str>,
        help: Option<String>,
    ) {
        let at = span.map(|s| {
            let at = Location::new(self.source, s);
            match label {
                Some(l) => at.with_label(l),
                None => at,
            }
        });
        self.errors.push(
            ConsentVocabularyError::new(self.source.name(), kind, field, message)
                .at(at)
                .with_help(help),
        );
    }

    /// The whole file: every table checked; the vocabulary when nothing is
    /// wrong and the schema's categories are known
    fn vocabulary(
        &mut self,
        root: &DeTable<'_>,
        categories: Option<&[Category]>,
    ) -> Option<ConsentVocabulary> {
        for (key, _) in sorted(root) {
            let name = key.get_ref().as_ref();
            if !TABLES.contains(&name) {
                self.error(
                    Kind::UnknownKey,
                    name,
                    format!("`{name}` is not a table of the consent vocabulary"),
                    Some(key.span()),
                    Some("unknown table"),
                    suggestion(name, &TABLES).or_else(|| Some(one_of("tables", &TABLES))),
                );
            }
        }
        let data = self
            .table(root, "data_categories")
            .map(|(_, t)| self.data_categories(t));
        let category_data = match (self.table(root, "category_data"), &data) {
            (Some((key, t)), Some(data)) => self.category_data(key, t, data, categories),
            _ => None,
        };
        let requesters = self
            .table(root, "requester_categories")
            .map(|(_, t)| self.requester_categories(t));
        let holders = match (self.table(root, "holder_categories"), &requesters) {
            (Some((_, t)), Some(requesters)) => Some(self.holder_categories(t, requesters)),
            _ => None,
        };
        if !self.errors.is_empty() {
            return None;
        }
        Some(ConsentVocabulary::new(
            data?,
            category_data?,
            holders?,
            requesters?,
        ))
    }

    /// The top-level table `name`, with the span of its header's key
    fn table<'v, 'i>(
        &mut self,
        root: &'v DeTable<'i>,
        name: &str,
    ) -> Option<(Range<usize>, &'v DeTable<'i>)> {
        let Some((key, value)) = root.iter().find(|(k, _)| k.get_ref().as_ref() == name) else {
            self.error(
                Kind::Missing,
                name,
                format!("the file has no `[{name}]` table"),
                None,
                None,
                None,
            );
            return None;
        };
        self.table_of(name, value).map(|t| (key.span(), t))
    }

    /// `value` as a table, or an error naming what it is
    fn table_of<'v, 'i>(
        &mut self,
        field: &str,
        value: &'v Spanned<DeValue<'i>>,
    ) -> Option<&'v DeTable<'i>> {
        if let DeValue::Table(t) = value.get_ref() {
            return Some(t);
        }
        self.error(
            Kind::WrongType,
            field,
            format!("expected a table, found {}", a(value.get_ref().type_str())),
            Some(value.span()),
            Some("a table belongs here"),
            None,
        );
        None
    }

    /// Reports every key of `table` outside `allowed`
    fn only(&mut self, field: &str, table: &DeTable<'_>, allowed: &[&str]) {
        for (key, _) in sorted(table) {
            let name = key.get_ref().as_ref();
            if !allowed.contains(&name) {
                self.error(
                    Kind::UnknownKey,
                    &format!("{field}.{name}"),
                    format!("`{name}` is not a field here"),
                    Some(key.span()),
                    Some("unknown field"),
                    suggestion(name, allowed).or_else(|| Some(one_of("fields", allowed))),
                );
            }
        }
    }

    /// The string value of `key` in `table` (an entry whose key is at
    /// `entry`), with its span; an error when it is missing (if
    /// `required`), not a string, or empty
    fn string<'v>(
        &mut self,
        field: &str,
        table: &'v DeTable<'_>,
        entry: &Range<usize>,
        key: &str,
        required: bool,
    ) -> Option<(&'v str, Range<usize>)> {
        let field = format!("{field}.{key}");
        let Some((_, value)) = table.iter().find(|(k, _)| k.get_ref().as_ref() == key) else {
            if required {
                let label = format!("no `{key}`");
                self.error(
                    Kind::Missing,
                    &field,
                    format!("`{key}` is missing"),
                    Some(entry.clone()),
                    Some(&label),
                    None,
                );
            }
            return None;
        };
        match value.get_ref() {
            DeValue::String(s) if s.trim().is_empty() => {
                self.error(
                    Kind::Missing,
                    &field,
                    format!("`{key}` is empty"),
                    Some(value.span()),
                    None,
                    None,
                );
                None
            }
            DeValue::String(s) => Some((s.as_ref(), value.span())),
            other => {
                self.error(
                    Kind::WrongType,
                    &field,
                    format!("expected a string, found {}", a(other.type_str())),
                    Some(value.span()),
                    None,
                    None,
                );
                None
            }
        }
    }

    /// The string elements of the array `key` of `table`, each with its
    /// span; empty when the key is absent
    fn strings<'v>(
        &mut self,
        field: &str,
        table: &'v DeTable<'_>,
        key: &str,
    ) -> Vec<(&'v str, Range<usize>)> {
        let field = format!("{field}.{key}");
        let Some((_, value)) = table.iter().find(|(k, _)| k.get_ref().as_ref() == key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = value.get_ref() else {
            self.error(
                Kind::WrongType,
                &field,
                format!(
                    "expected an array of strings, found {}",
                    a(value.get_ref().type_str())
                ),
                Some(value.span()),
                None,
                None,
            );
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for item in &**items {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.as_ref(), item.span())),
                other => self.error(
                    Kind::WrongType,
                    &field,
                    format!("expected a string, found {}", a(other.type_str())),
                    Some(item.span()),
                    None,
                    None,
                ),
            }
        }
        out
    }

    /// A code, checked like any id (SPEC.md §1)
    fn code<T>(
        &mut self,
        field: &str,
        what: &str,
        (s, span): (&str, Range<usize>),
        make: fn(&str) -> Result<T, IdError>,
    ) -> Option<T> {
        match make(s) {
            Ok(code) => Some(code),
            Err(e) => {
                self.error(
                    Kind::InvalidCode,
                    field,
                    format!("`{}` is not a valid {what}: {e}", s.escape_debug()),
                    Some(span),
                    None,
                    None,
                );
                None
            }
        }
    }

    /// The entries of a table of declarations (`[data_categories]`, …), in
    /// the order of the text: each key a valid code, each value a table with
    /// only the fields `allowed` and a `name`; at most `u16::MAX + 1` of
    /// them. An entry with a valid code is kept even when its value has an
    /// error, so that what names it is not reported too.
    fn declarations<'v, 'i, T>(
        &mut self,
        table_name: &str,
        what: &str,
        table: &'v DeTable<'i>,
        allowed: &[&str],
        make: fn(&str) -> Result<T, IdError>,
    ) -> Vec<Declared<'v, 'i, T>> {
        let mut out = Vec::new();
        for (n, (key, value)) in sorted(table).into_iter().enumerate() {
            let name = key.get_ref().as_ref();
            let field = format!("{table_name}.{name}");
            if u16::try_from(n).is_err() {
                self.error(
                    Kind::TooMany,
                    &field,
                    format!(
                        "more than {} entries in `[{table_name}]`",
                        usize::from(u16::MAX) + 1
                    ),
                    Some(key.span()),
                    None,
                    None,
                );
                break;
            }
            let code = self.code(&field, what, (name, key.span()), make);
            let entry = self.table_of(&field, value);
            let display = entry.and_then(|entry| {
                self.only(&field, entry, allowed);
                self.string(&field, entry, &key.span(), "name", true)
            });
            if let Some(code) = code {
                out.push(Declared {
                    code,
                    key: key.span(),
                    name: display.map(|(d, _)| d.to_owned()).unwrap_or_default(),
                    entry,
                });
            }
        }
        out
    }

    /// `[data_categories]`, each with the indices it covers
    fn data_categories(&mut self, table: &DeTable<'_>) -> Vec<DataEntry> {
        let declared = self.declarations(
            "data_categories",
            "data category",
            table,
            &["name", "covers"],
            DataCategory::new,
        );
        let codes: Vec<&str> = declared.iter().map(|d| d.code.as_str()).collect();
        // (covering, covered, the covered element's span), for the cycle check
        let mut edges: Vec<(u16, u16, Range<usize>)> = Vec::new();
        let mut out = Vec::with_capacity(declared.len());
        for (i, d) in declared.iter().enumerate() {
            let at = format!("data_categories.{}", d.code);
            let field = format!("{at}.covers");
            let mut covers: Vec<u16> = Vec::new();
            let listed = d.entry.map(|e| self.strings(&at, e, "covers"));
            for (s, span) in listed.unwrap_or_default() {
                let Some(code) = self.code(
                    &field,
                    "data category",
                    (s, span.clone()),
                    DataCategory::new,
                ) else {
                    continue;
                };
                let Some(j) = position(&codes, code.as_str()) else {
                    self.error(
                        Kind::UndeclaredDataCategory,
                        &field,
                        format!("`{code}` is not declared in `[data_categories]`"),
                        Some(span),
                        Some("not a declared data category"),
                        suggestion(code.as_str(), &codes),
                    );
                    continue;
                };
                if covers.contains(&j) {
                    self.error(
                        Kind::Duplicate,
                        &field,
                        format!("`{code}` is listed twice"),
                        Some(span),
                        Some("again"),
                        None,
                    );
                    continue;
                }
                covers.push(j);
                if let Ok(i) = u16::try_from(i) {
                    edges.push((i, j, span));
                }
            }
            out.push(DataEntry {
                code: d.code.clone(),
                name: d.name.clone(),
                covers,
            });
        }
        // An edge (i, j) goes round when i is reachable from j
        for (i, j, span) in &edges {
            if !reachable(&edges, *j, *i) {
                continue;
            }
            let from = codes.get(usize::from(*i)).copied().unwrap_or("");
            let to = codes.get(usize::from(*j)).copied().unwrap_or("");
            let message = if i == j {
                format!("`{from}` covers itself")
            } else {
                format!(
                    "`{from}` covers `{to}`, and `{to}` covers `{from}` (directly or through \
                     others): covering must not go round"
                )
            };
            self.error(
                Kind::CoversCycle,
                &format!("data_categories.{from}.covers"),
                message,
                Some(span.clone()),
                Some("goes round"),
                None,
            );
        }
        out
    }

    /// `[category_data]`: the data category of each schema category, by the
    /// category's position (`None` without the schema's categories); `header`
    /// is where the table's name is
    fn category_data(
        &mut self,
        header: Range<usize>,
        table: &DeTable<'_>,
        data: &[DataEntry],
        categories: Option<&[Category]>,
    ) -> Option<Vec<u16>> {
        let data_codes: Vec<&str> = data.iter().map(|d| d.code.as_str()).collect();
        let names: Vec<&str> = categories
            .unwrap_or_default()
            .iter()
            .map(Category::as_str)
            .collect();
        // By the category's position in the schema: its data category, and
        // whether it is listed at all (with a value in error, it is listed)
        let mut mapped: HashMap<usize, u16> = HashMap::new();
        let mut listed: Vec<usize> = Vec::new();
        for (key, value) in sorted(table) {
            let name = key.get_ref().as_ref();
            let field = format!("category_data.{name}");
            let category = self.code(&field, "category", (name, key.span()), Category::new);
            let place = position(&names, name);
            if category.is_some() && categories.is_some() && place.is_none() {
                self.error(
                    Kind::UnknownCategory,
                    &field,
                    format!("`{name}` is not a category of `zorg.cedarschema`"),
                    Some(key.span()),
                    Some("not a category of the schema"),
                    suggestion(name, &names),
                );
            }
            listed.extend(place.map(usize::from));
            let DeValue::String(s) = value.get_ref() else {
                self.error(
                    Kind::WrongType,
                    &field,
                    format!(
                        "expected a data category code (a string), found {}",
                        a(value.get_ref().type_str())
                    ),
                    Some(value.span()),
                    None,
                    None,
                );
                continue;
            };
            let Some(code) = self.code(
                &field,
                "data category",
                (s, value.span()),
                DataCategory::new,
            ) else {
                continue;
            };
            let Some(i) = position(&data_codes, code.as_str()) else {
                self.error(
                    Kind::UndeclaredDataCategory,
                    &field,
                    format!("`{code}` is not declared in `[data_categories]`"),
                    Some(value.span()),
                    Some("not a declared data category"),
                    suggestion(code.as_str(), &data_codes),
                );
                continue;
            };
            if let Some(p) = place {
                mapped.insert(usize::from(p), i);
            }
        }
        let categories = categories?;
        let mut out = Vec::with_capacity(categories.len());
        for (p, c) in categories.iter().enumerate() {
            if let Some(&i) = mapped.get(&p) {
                out.push(i);
                continue;
            }
            if listed.contains(&p) {
                continue;
            }
            let label = format!("no `{c}` here");
            self.error(
                Kind::UnmappedCategory,
                &format!("category_data.{c}"),
                format!(
                    "category `{c}` of `zorg.cedarschema` has no data category: add \
                     `{c} = \"…\"` to `[category_data]`"
                ),
                Some(header.clone()),
                Some(&label),
                None,
            );
        }
        Some(out)
    }

    /// `[requester_categories]`
    fn requester_categories(&mut self, table: &DeTable<'_>) -> Vec<RequesterEntry> {
        self.declarations(
            "requester_categories",
            "requesting category",
            table,
            &["name"],
            RequesterCategory::new,
        )
        .into_iter()
        .map(|d| RequesterEntry {
            code: d.code,
            name: d.name,
        })
        .collect()
    }

    /// `[holder_categories]`: each asks as a declared requesting category;
    /// each provider type in one holder category at most
    fn holder_categories(
        &mut self,
        table: &DeTable<'_>,
        requesters: &[RequesterEntry],
    ) -> Vec<HolderEntry> {
        let declared = self.declarations(
            "holder_categories",
            "holder category",
            table,
            &["name", "requester", "provider_types"],
            HolderCategory::new,
        );
        let requester_codes: Vec<&str> = requesters.iter().map(|r| r.code.as_str()).collect();
        // Where each provider type was first listed, and in which holder category
        let mut seen: HashMap<ProviderType, (String, Location)> = HashMap::new();
        let mut out = Vec::with_capacity(declared.len());
        for d in &declared {
            let Some(entry) = d.entry else { continue };
            let at = format!("holder_categories.{}", d.code);
            let requester = self
                .string(&at, entry, &d.key, "requester", true)
                .and_then(|(s, span)| self.requester(&at, (s, span), &requester_codes));
            if !entry
                .iter()
                .any(|(k, _)| k.get_ref().as_ref() == "provider_types")
            {
                self.error(
                    Kind::Missing,
                    &format!("{at}.provider_types"),
                    "`provider_types` is missing (`[]` when no provider type belongs here)",
                    Some(d.key.clone()),
                    Some("no `provider_types`"),
                    None,
                );
            }
            let field = format!("{at}.provider_types");
            let mut types: Vec<ProviderType> = Vec::new();
            for (s, span) in self.strings(&at, entry, "provider_types") {
                let Some(t) = self.code(
                    &field,
                    "provider type",
                    (s, span.clone()),
                    ProviderType::new,
                ) else {
                    continue;
                };
                if let Some((holder, first)) = seen.get(&t) {
                    let (kind, message, label) = if holder == d.code.as_str() {
                        (
                            Kind::Duplicate,
                            format!("provider type `{t}` is listed twice"),
                            format!("also at {first}"),
                        )
                    } else {
                        (
                            Kind::ProviderTypeTwice,
                            format!(
                                "provider type `{t}` is in holder categories `{holder}` and \
                                 `{}`: a provider type belongs to one holder category at most",
                                d.code
                            ),
                            format!("also in `{holder}` at {first}"),
                        )
                    };
                    self.error(kind, &field, message, Some(span), Some(&label), None);
                    continue;
                }
                let first = Location::new(self.source, span);
                seen.insert(t.clone(), (d.code.as_str().to_owned(), first));
                types.push(t);
            }
            if let Some(requester) = requester {
                out.push(HolderEntry {
                    code: d.code.clone(),
                    name: d.name.clone(),
                    requester,
                    provider_types: types,
                });
            }
        }
        out
    }

    /// The index of a holder category's `requester`, a declared requesting category
    fn requester(
        &mut self,
        at: &str,
        (s, span): (&str, Range<usize>),
        declared: &[&str],
    ) -> Option<u16> {
        let field = format!("{at}.requester");
        let code = self.code(
            &field,
            "requesting category",
            (s, span.clone()),
            RequesterCategory::new,
        )?;
        let found = position(declared, code.as_str());
        if found.is_none() {
            self.error(
                Kind::UndeclaredRequester,
                &field,
                format!("`{code}` is not declared in `[requester_categories]`"),
                Some(span),
                Some("not a declared requesting category"),
                suggestion(code.as_str(), declared),
            );
        }
        found
    }
}

/// The shipped consent vocabulary with a `[category_data]` for exactly
/// `categories` (`labuitslagen` → GGC012, `medicatie` → GGC013, every other
/// → GGC002), for the crate's tests over toy schemas
#[cfg(test)]
pub(crate) fn consent_for(categories: &[&str]) -> String {
    let start = SHIPPED_CONSENT.find("[category_data]\n").unwrap_or(0);
    let end = SHIPPED_CONSENT
        .get(start..)
        .and_then(|rest| rest.find("\n\n"))
        .map_or(SHIPPED_CONSENT.len(), |i| start + i);
    let mut table = String::from("[category_data]\n");
    for c in categories {
        let data = match *c {
            "labuitslagen" => "GGC012",
            "medicatie" => "GGC013",
            _ => "GGC002",
        };
        table.push_str(c);
        table.push_str(" = \"");
        table.push_str(data);
        table.push_str("\"\n");
    }
    format!(
        "{}{}{}",
        SHIPPED_CONSENT.get(..start).unwrap_or(""),
        table.trim_end(),
        SHIPPED_CONSENT.get(end..).unwrap_or("")
    )
}

/// The entries of a table in the order of the text
fn sorted<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut entries: Vec<Entry<'a, 'i>> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

/// The position of `s` in `list`, as an index
fn position(list: &[&str], s: &str) -> Option<u16> {
    list.iter()
        .position(|x| *x == s)
        .and_then(|i| u16::try_from(i).ok())
}

/// Whether `to` is reachable from `from` along `edges`
fn reachable(edges: &[(u16, u16, Range<usize>)], from: u16, to: u16) -> bool {
    let mut seen: Vec<u16> = Vec::new();
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.contains(&n) {
            continue;
        }
        seen.push(n);
        stack.extend(edges.iter().filter(|(a, _, _)| *a == n).map(|(_, b, _)| *b));
    }
    false
}

/// `a string`, `an array`, … for a TOML type's name
fn a(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

/// "the fields are `a`, `b`"
fn one_of(what: &str, names: &[&str]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    format!("the {what} are {}", names.join(", "))
}

/// "did you mean `x`?" for the one candidate closest to `name`, when it is
/// close (at most two edits, and fewer than half of the name's characters)
/// and no other is as close
fn suggestion(name: &str, candidates: &[&str]) -> Option<String> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(usize, &str)> = candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), *c))
        .collect();
    scored.sort_unstable();
    let &(distance, best) = scored.first()?;
    let tie = scored.get(1).is_some_and(|(d, _)| *d == distance);
    (!tie && distance <= 2 && distance * 2 < name.chars().count())
        .then(|| format!("did you mean `{best}`?"))
}

/// The Levenshtein distance of two strings, in characters
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut next = Vec::with_capacity(b.len() + 1);
        next.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let diagonal = row.get(j).copied().unwrap_or(usize::MAX);
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = next.last().copied().unwrap_or(usize::MAX);
            let cost = diagonal.saturating_add(usize::from(ca != *cb));
            next.push(
                cost.min(above.saturating_add(1))
                    .min(left.saturating_add(1)),
            );
        }
        row = next;
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use miette::Diagnostic as _;

    use super::*;
    use crate::diagnostic;

    /// The shipped schema's categories
    fn categories() -> Vec<Category> {
        crate::policy::Policies::shipped()
            .unwrap()
            .vocabulary()
            .categories()
            .to_vec()
    }

    fn load(text: &str) -> Result<Option<ConsentVocabulary>, PolicyLoadError> {
        parse(
            &diagnostic::source("c.toml", text),
            Some(&categories()),
            false,
        )
    }

    /// Every error of `text`: kind, field, line, column
    fn errors(text: &str) -> Vec<(Kind, String, usize, usize)> {
        match load(text) {
            Err(PolicyLoadError::Consent(all)) => all
                .iter()
                .map(|e| {
                    assert_eq!(e.file(), "c.toml");
                    let (line, column) = e.location().map_or((0, 0), |at| (at.line(), at.column()));
                    (e.kind(), e.field().to_owned(), line, column)
                })
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    /// The shipped text with `from` replaced by `to` (once)
    fn shipped_with(from: &str, to: &str) -> String {
        assert!(SHIPPED_CONSENT.contains(from), "{from}");
        SHIPPED_CONSENT.replacen(from, to, 1)
    }

    /// The 1-based line and column of the first `needle` in `text`
    fn place(text: &str, needle: &str) -> (usize, usize) {
        let at = text.find(needle).unwrap();
        diagnostic::line_column(text, at)
    }

    #[test]
    fn the_shipped_file_loads() {
        let v = load(SHIPPED_CONSENT).unwrap().unwrap();
        assert_eq!(v.data_categories().len(), 3);
        assert_eq!(v.holder_categories().len(), 7);
        assert_eq!(v.requester_categories().len(), 7);
        assert_eq!(v.provider_type_count(), 91);
        // Without the schema's categories nothing is built, and nothing is wrong
        let source = diagnostic::source("c.toml", SHIPPED_CONSENT);
        assert!(matches!(parse(&source, None, false), Ok(None)));
    }

    #[test]
    fn every_syntax_error_is_at_its_place() {
        let text = "[data_categories]\nGGC002 = = { name = \"B\" }\n\n[category_data]\nbasis = \"GGC002\" x\n";
        let found = errors(text);
        assert!(found.iter().all(|(k, ..)| *k == Kind::Syntax), "{found:?}");
        assert_eq!(
            found.first().map(|e| (e.2, e.3)),
            Some((2, 10)),
            "{found:?}"
        );
        assert!(found.iter().any(|e| (e.2, e.3) == (5, 18)), "{found:?}");
        let Err(PolicyLoadError::Consent(all)) = load(text) else {
            panic!()
        };
        let first = all.iter().next().unwrap();
        assert!(
            first.to_string().starts_with("`c.toml` line 2: "),
            "{first}"
        );
    }

    #[test]
    fn unknown_tables_and_fields_are_refused_with_a_suggestion() {
        let text = shipped_with(
            "GGC012 = { name = \"Uitslagen\" }",
            "GGC012 = { name = \"Uitslagen\", covrs = [] }",
        );
        let text = text.replacen("[category_data]", "[category_dat]", 1);
        let found = errors(&text);
        let (line, column) = place(&text, "covrs");
        assert!(
            found.contains(&(
                Kind::UnknownKey,
                "data_categories.GGC012.covrs".into(),
                line,
                column
            )),
            "{found:?}"
        );
        let (line, column) = place(&text, "category_dat]");
        assert!(
            found.contains(&(Kind::UnknownKey, "category_dat".into(), line, column)),
            "{found:?}"
        );
        // The real table is then missing, without a place
        let Err(PolicyLoadError::Consent(all)) = load(&text) else {
            panic!()
        };
        let missing = all.iter().find(|e| e.kind() == Kind::Missing).unwrap();
        assert_eq!(missing.field(), "category_data");
        assert!(missing.location().is_none());
        assert_eq!(
            missing.to_string(),
            "`c.toml`, field `category_data`: the file has no `[category_data]` table"
        );
        let unknown = all.iter().find(|e| e.field() == "category_dat").unwrap();
        assert_eq!(
            unknown.help().unwrap().to_string(),
            "did you mean `category_data`?"
        );
        let covrs = all.iter().find(|e| e.field().ends_with("covrs")).unwrap();
        assert_eq!(covrs.help().unwrap().to_string(), "did you mean `covers`?");
        assert_eq!(
            covrs.to_string(),
            format!(
                "`c.toml` line {}, field `data_categories.GGC012.covrs`: `covrs` is not a field here",
                place(&text, "covrs").0
            )
        );
    }

    #[test]
    fn wrong_types_and_missing_or_empty_names_are_refused() {
        let text = shipped_with(
            "GGC013 = { name = \"Medicatiegegevens\" }",
            "GGC013 = \"Medicatiegegevens\"",
        );
        let text = text.replacen("labuitslagen = \"GGC012\"", "labuitslagen = 12", 1);
        let text = text.replacen(
            "RPZAC003 = { name = \"Geestelijke gezondheidszorg (GGZ)\" }",
            "RPZAC003 = { name = \" \" }",
            1,
        );
        let text = text.replacen(
            "RPZAC004 = { name = \"Verpleging en verzorging\" }",
            "RPZAC004 = {}",
            1,
        );
        let text = text.replacen("requester = \"RPZAC001\"", "requester = [\"RPZAC001\"]", 1);
        let found = errors(&text);
        let at = |needle: &str| place(&text, needle);
        let expect = [
            (
                Kind::WrongType,
                "data_categories.GGC013",
                at("\"Medicatiegegevens\""),
            ),
            (Kind::WrongType, "category_data.labuitslagen", at("12\n")),
            (
                Kind::Missing,
                "requester_categories.RPZAC003.name",
                at("\" \""),
            ),
            (
                Kind::Missing,
                "requester_categories.RPZAC004.name",
                at("RPZAC004 ="),
            ),
            (
                Kind::WrongType,
                "holder_categories.huisartsen.requester",
                at("[\"RPZAC001\"]"),
            ),
        ];
        for (kind, field, (line, column)) in expect {
            assert!(
                found.contains(&(kind, field.to_owned(), line, column)),
                "{kind:?} {field} {line}:{column} not in {found:?}"
            );
        }
        // GGC013 is still declared, so what names it is not reported too; nor
        // is `labuitslagen`, listed with a bad value, reported as unmapped
        assert_eq!(found.len(), expect.len(), "{found:?}");
    }

    #[test]
    fn invalid_codes_are_refused_at_the_code() {
        let text = shipped_with(
            "GGC012 = { name = \"Uitslagen\" }",
            "\"GGC 012\" = { name = \"Uitslagen\" }",
        );
        let text = text.replacen("  \"K4\",", "  \"K/4\",", 1);
        let found = errors(&text);
        let (line, column) = place(&text, "\"GGC 012\" =");
        assert!(
            found.contains(&(
                Kind::InvalidCode,
                "data_categories.GGC 012".into(),
                line,
                column
            )),
            "{found:?}"
        );
        let (line, column) = place(&text, "\"K/4\"");
        assert!(
            found.contains(&(
                Kind::InvalidCode,
                "holder_categories.verpleging_verzorging.provider_types".into(),
                line,
                column
            )),
            "{found:?}"
        );
        let Err(PolicyLoadError::Consent(all)) = load(&text) else {
            panic!()
        };
        let k4 = all.iter().find(|e| e.message().contains("K/4")).unwrap();
        assert!(
            k4.message()
                .starts_with("`K/4` is not a valid provider type: invalid id"),
            "{k4}"
        );
    }

    #[test]
    fn covers_must_name_declared_categories_once_and_not_go_round() {
        let text = shipped_with(
            "covers = [\"GGC012\", \"GGC013\"]",
            "covers = [\"GGC012\", \"GGC014\", \"GGC012\"]",
        );
        let found = errors(&text);
        let (line, column) = place(&text, "\"GGC014\"");
        assert!(
            found.contains(&(
                Kind::UndeclaredDataCategory,
                "data_categories.GGC002.covers".into(),
                line,
                column
            )),
            "{found:?}"
        );
        let second = text
            .find("\"GGC012\" ]")
            .unwrap_or_else(|| text.find("\"GGC012\"]").unwrap());
        let (line, column) = diagnostic::line_column(&text, second);
        assert!(
            found.contains(&(
                Kind::Duplicate,
                "data_categories.GGC002.covers".into(),
                line,
                column
            )),
            "{found:?}"
        );
        // A cycle, and a category covering itself
        let text = shipped_with(
            "GGC012 = { name = \"Uitslagen\" }",
            "GGC012 = { name = \"Uitslagen\", covers = [\"GGC002\"] }",
        );
        let text = text.replacen(
            "GGC013 = { name = \"Medicatiegegevens\" }",
            "GGC013 = { name = \"Medicatiegegevens\", covers = [\"GGC013\"] }",
            1,
        );
        let found = errors(&text);
        let cycles: Vec<_> = found.iter().filter(|e| e.0 == Kind::CoversCycle).collect();
        assert_eq!(cycles.len(), 3, "{found:?}");
        let (line, column) = place(&text, "[\"GGC002\"]");
        assert!(
            found.contains(&(
                Kind::CoversCycle,
                "data_categories.GGC012.covers".into(),
                line,
                column + 1
            )),
            "{found:?}"
        );
        let Err(PolicyLoadError::Consent(all)) = load(&text) else {
            panic!()
        };
        assert!(all.iter().any(|e| e.message() == "`GGC013` covers itself"));
    }

    #[test]
    fn category_data_maps_exactly_the_schemas_categories() {
        let text = shipped_with("echo = \"GGC002\"\n", "");
        let text = text.replacen("voet = \"GGC002\"", "voett = \"GGC002\"", 1);
        let text = text.replacen("kind = \"GGC002\"", "kind = \"GGC099\"", 1);
        let found = errors(&text);
        let (line, column) = place(&text, "[category_data]");
        // Each missing category at the table's name
        for missing in ["echo", "voet"] {
            assert!(
                found.contains(&(
                    Kind::UnmappedCategory,
                    format!("category_data.{missing}"),
                    line,
                    column + 1
                )),
                "{missing}: {found:?}"
            );
        }
        let (line, column) = place(&text, "voett");
        assert!(
            found.contains(&(
                Kind::UnknownCategory,
                "category_data.voett".into(),
                line,
                column
            )),
            "{found:?}"
        );
        let (line, column) = place(&text, "\"GGC099\"");
        assert!(
            found.contains(&(
                Kind::UndeclaredDataCategory,
                "category_data.kind".into(),
                line,
                column
            )),
            "{found:?}"
        );
        let Err(PolicyLoadError::Consent(all)) = load(&text) else {
            panic!()
        };
        let voett = all
            .iter()
            .find(|e| e.field() == "category_data.voett")
            .unwrap();
        assert_eq!(voett.help().unwrap().to_string(), "did you mean `voet`?");
        let echo = all
            .iter()
            .find(|e| e.field() == "category_data.echo")
            .unwrap();
        assert_eq!(
            echo.message(),
            "category `echo` of `zorg.cedarschema` has no data category: add `echo = \"…\"` to `[category_data]`"
        );
        assert_eq!(echo.location().unwrap().label(), Some("no `echo` here"));
    }

    #[test]
    fn holder_categories_ask_as_declared_requesters_with_their_own_provider_types() {
        let text = shipped_with("requester = \"RPZAC005\"", "requester = \"RPZAC006\"");
        // V4 in two holder categories, K4 twice in one, and no provider_types at all
        let text = text.replacen("  \"H1\",", "  \"H1\",\n  \"V4\",", 1);
        let text = text.replacen("  \"M1\",", "  \"M1\",\n  \"K4\",", 1);
        let text = text.replacen(
            "requester = \"RPZAC003\"\nprovider_types = [\n  \"G5\", # Geestelijke gezondheidszorg (GGZ)\n  \"G7\", # Psychiatriepraktijk\n  \"G8\", # Psychologiepraktijk en psychotherapiepraktijk\n]",
            "requester = \"RPZAC003\"",
            1,
        );
        let found = errors(&text);
        let (line, column) = place(&text, "\"RPZAC006\"");
        assert!(
            found.contains(&(
                Kind::UndeclaredRequester,
                "holder_categories.apotheken.requester".into(),
                line,
                column
            )),
            "{found:?}"
        );
        // The second V4 (in ziekenhuizen) is the one at fault
        let v4_again = text.rfind("\"V4\"").unwrap();
        let (line, column) = diagnostic::line_column(&text, v4_again);
        assert!(
            found.contains(&(
                Kind::ProviderTypeTwice,
                "holder_categories.ziekenhuizen.provider_types".into(),
                line,
                column
            )),
            "{found:?}"
        );
        let k4_again = text.rfind("\"K4\"").unwrap();
        let (line, column) = diagnostic::line_column(&text, k4_again);
        assert!(
            found.contains(&(
                Kind::Duplicate,
                "holder_categories.verpleging_verzorging.provider_types".into(),
                line,
                column
            )),
            "{found:?}"
        );
        let (line, column) = place(&text, "ggz]");
        assert!(
            found.contains(&(
                Kind::Missing,
                "holder_categories.ggz.provider_types".into(),
                line,
                column
            )),
            "{found:?}"
        );
        let Err(PolicyLoadError::Consent(all)) = load(&text) else {
            panic!()
        };
        let v4 = all
            .iter()
            .find(|e| e.kind() == Kind::ProviderTypeTwice)
            .unwrap();
        let first = place(&text, "\"V4\"");
        assert_eq!(
            v4.location().unwrap().label(),
            Some(format!("also in `huisartsen` at c.toml:{}:{}", first.0, first.1).as_str())
        );
        assert!(v4.message().contains("`V4`"), "{v4}");
        let rpzac = all
            .iter()
            .find(|e| e.kind() == Kind::UndeclaredRequester)
            .unwrap();
        // RPZAC006 is as close to RPZAC001, …005: no suggestion; RPZAC05 has one
        assert!(rpzac.help().is_none(), "{rpzac}");
        let text = shipped_with("requester = \"RPZAC005\"", "requester = \"RPZAC05\"");
        let Err(PolicyLoadError::Consent(all)) = load(&text) else {
            panic!()
        };
        let rpzac = all.iter().next().unwrap();
        assert_eq!(
            rpzac.help().unwrap().to_string(),
            "did you mean `RPZAC005`?"
        );
    }

    #[test]
    fn errors_come_in_the_order_of_the_text_the_same_every_time() {
        let text = shipped_with("requester = \"RPZAC005\"", "requester = \"RPZAC006\"")
            .replacen("kind = \"GGC002\"", "kind = \"GGC099\"", 1)
            .replacen(
                "GGC012 = { name = \"Uitslagen\" }",
                "GGC012 = { name = \"\" }",
                1,
            );
        let first = errors(&text);
        assert_eq!(first.len(), 3, "{first:?}");
        let lines: Vec<usize> = first.iter().map(|e| e.2).collect();
        assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{first:?}");
        for _ in 0..5 {
            assert_eq!(errors(&text), first);
        }
    }

    #[test]
    fn the_fallback_says_where_to_put_a_consent_file() {
        let mut categories = categories();
        categories.push(Category::new("wondzorg").unwrap());
        let source = diagnostic::source(SHIPPED_NAME, SHIPPED_CONSENT);
        let Err(PolicyLoadError::Consent(all)) = parse(&source, Some(&categories), true) else {
            panic!()
        };
        let e = all.iter().next().unwrap();
        assert_eq!(e.kind(), Kind::UnmappedCategory);
        assert_eq!(e.file(), "<shipped consent.toml>");
        assert!(
            e.help()
                .unwrap()
                .to_string()
                .contains("put a `consent.toml` beside"),
            "{e}"
        );
        assert_eq!(all.len(), 1);
    }

    #[test]
    fn a_toy_schemas_consent_vocabulary_maps_its_categories() {
        let text = consent_for(&["basis", "medicatie", "wondzorg"]);
        let categories: Vec<Category> = ["basis", "medicatie", "wondzorg"]
            .iter()
            .map(|c| Category::new(c).unwrap())
            .collect();
        let v = parse(
            &diagnostic::source("c.toml", &text),
            Some(&categories),
            false,
        )
        .unwrap()
        .unwrap();
        let ggc013 = v.data_index(&DataCategory::new("GGC013").unwrap());
        assert_eq!(v.data_of_category(1), ggc013);
        assert_eq!(v.data_of_category(2), Some(0));
        assert_eq!(v.holder_categories().len(), 7);
        assert_eq!(consent_for(&categories_of_shipped()), SHIPPED_CONSENT);
    }

    /// The shipped schema's category names
    fn categories_of_shipped() -> Vec<&'static str> {
        vec![
            "basis",
            "zwangerschap",
            "bevalling",
            "kraambed",
            "kind",
            "echo",
            "metingen",
            "leefstijl",
            "voeding",
            "voet",
            "labuitslagen",
            "medicatie",
            "voorgeschiedenis",
            "psychosociaal",
        ]
    }

    #[test]
    fn suggestions_are_close_names_only() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("voet", "voet"), 0);
        assert_eq!(
            suggestion("voett", &["voet", "kind"]).as_deref(),
            Some("did you mean `voet`?")
        );
        assert_eq!(suggestion("xy", &["ab"]), None);
        assert_eq!(suggestion("zzzzzz", &["basis"]), None);
    }
}
