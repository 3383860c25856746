//! One policy file at a time: size and shape limits, parsing, the `@id` and
//! `@reason` annotations, and where each policy starts (for error messages).

use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{Effect, ParseErrors, Policy, PolicyId, PolicySet};
use hashbrown::HashMap;

use super::policy_load_errors::{
    AnnotationError, ComplexityError, DuplicateIdError, FileTooLargeError, NestingError,
    PolicySyntaxError, ReasonError,
};
use super::{
    MAX_POLICY_FILE_LEN, MAX_POLICY_NESTING, MAX_POLICY_OPERATORS, PolicyInfo, PolicyLoadError,
    flatten,
};
use crate::diagnostic::{self, Location, Source};
use crate::model::vocab::Reason;

/// Where a policy comes from: its file (as errors name it) and the 1-based
/// line it starts on
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Origin {
    pub(super) file: String,
    pub(super) line: usize,
}

/// The policies loaded so far, each under its `@id`
#[derive(Debug, Default)]
pub(super) struct Loaded {
    pub(super) set: PolicySet,
    pub(super) info: HashMap<String, PolicyInfo>,
    pub(super) ids: Vec<String>,
    pub(super) origins: HashMap<String, Origin>,
    /// Each file's text under the name errors give it, for their locations
    pub(super) sources: HashMap<String, Source>,
    /// Where each policy's `@id` is, for a later duplicate
    id_places: HashMap<String, Location>,
}

/// One policy of a file: the policy, where it starts, and its text
struct Placed<'p> {
    policy: &'p Policy,
    origin: Origin,
    /// Byte span of the policy's text in the file
    span: std::ops::Range<usize>,
}

impl Loaded {
    /// Checks, parses and adds every policy of one file; `shown` is the
    /// name errors give the file. Every error found is added to `errors`,
    /// in the order of the text; a policy with an error is left out.
    pub(super) fn add_file(&mut self, shown: &str, text: &str, errors: &mut Vec<PolicyLoadError>) {
        if let Err(e) = check_len(shown, text.len()) {
            errors.push(e.into());
            return;
        }
        let source = diagnostic::source(shown, text);
        self.sources.insert(shown.to_owned(), Arc::clone(&source));
        if let Err(e) = check_shape(text, shown, &source) {
            errors.push(e);
            return;
        }
        let parsed = match PolicySet::from_str(text) {
            Ok(parsed) => parsed,
            Err(e) => {
                errors.extend(syntax_errors(&e, shown, &source));
                return;
            }
        };
        if let Some(template) = parsed.templates().next() {
            let (_, offset, _) = locate(text, &template.to_string(), 0);
            let at = Location::new(&source, offset..offset + head_len(text, offset));
            errors.push(
                AnnotationError::new(shown, "templates are not supported")
                    .at(Some(at.with_label("a template")), None)
                    .into(),
            );
            return;
        }
        let mut start = 0;
        for policy in in_source_order(&parsed) {
            let (line, offset, end) = locate(text, &policy.to_string(), start);
            start = end;
            let placed = Placed {
                policy,
                origin: Origin {
                    file: shown.to_owned(),
                    line,
                },
                span: offset..end,
            };
            if let Err(e) = self.add(&placed, text, &source) {
                errors.push(e);
            }
        }
    }

    /// Adds one policy under its `@id`, with its effect and reason code
    fn add(&mut self, p: &Placed<'_>, text: &str, source: &Source) -> Result<(), PolicyLoadError> {
        let policy_text = text.get(p.span.clone()).unwrap_or("");
        let annotation = |name: &str| {
            annotation_span(policy_text, name)
                .map(|r| Location::new(source, p.span.start + r.start..p.span.start + r.end))
        };
        // The policy's head: its effect keyword, to the end of that line
        let keyword = match p.policy.effect() {
            Effect::Permit => "permit",
            Effect::Forbid => "forbid",
        };
        let start = p.span.start + keyword_at(policy_text, keyword).unwrap_or(0);
        let head = Location::new(source, start..start + head_len(text, start));
        let id = id_of(p.policy, &p.origin.file, annotation("id"), &head)?;
        let id_at = annotation("id").unwrap_or_else(|| head.clone());
        if let Some(first) = self.id_places.get(id) {
            let label = format!("also the `@id` of the policy at {first}");
            return Err(DuplicateIdError::new(id, Some(id_at.with_label(label))).into());
        }
        let reason = reason_of(p.policy, id)
            .map_err(|e| e.at(Some(annotation("reason").unwrap_or_else(|| head.clone()))))?;
        self.set
            .add(p.policy.new_id(PolicyId::new(id)))
            .map_err(|e| {
                PolicySyntaxError::new(p.origin.file.as_str(), flatten(&e)).at(Some(head), None)
            })?;
        self.info.insert(
            id.to_owned(),
            PolicyInfo {
                effect: p.policy.effect(),
                reason,
            },
        );
        self.ids.push(id.to_owned());
        self.id_places.insert(id.to_owned(), id_at);
        self.origins.insert(id.to_owned(), p.origin.clone());
        Ok(())
    }
}

/// Every parse error Cedar found in a file, each at its place, in the
/// order of the text
pub(super) fn syntax_errors(
    errors: &ParseErrors,
    shown: &str,
    source: &Source,
) -> Vec<PolicyLoadError> {
    let mut found: Vec<PolicySyntaxError> = errors
        .iter()
        .map(|e| {
            let at = diagnostic::cedar_span(e).map(|(span, label)| {
                let at = Location::new(source, span);
                match label {
                    Some(label) => at.with_label(label),
                    None => at,
                }
            });
            PolicySyntaxError::new(shown, flatten(e)).at(at, diagnostic::cedar_help(e))
        })
        .collect();
    found.sort_by(|a, b| {
        let key = |e: &PolicySyntaxError| e.location().map(|at| at.span().start);
        key(a)
            .cmp(&key(b))
            .then_with(|| a.message().cmp(b.message()))
    });
    found.dedup();
    found.into_iter().map(PolicyLoadError::from).collect()
}

/// The byte span of `@name` and its argument in a policy's text, if the
/// policy has that annotation
fn annotation_span(policy_text: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let mut from = 0;
    while let Some(i) = policy_text.get(from..)?.find('@') {
        let at = from + i;
        let rest = policy_text.get(at + 1..)?;
        if rest.starts_with(name)
            && rest
                .get(name.len()..)
                .is_some_and(|r| r.trim_start().starts_with('('))
        {
            let close = rest.find(')').map_or(rest.len(), |j| j + 1);
            return Some(at..at + 1 + close);
        }
        from = at + 1;
    }
    None
}

/// Where the effect keyword is in a policy's text: after its annotations
/// (`@name("…")`), spaces and comments
fn keyword_at(policy_text: &str, keyword: &str) -> Option<usize> {
    let mut at = 0;
    loop {
        let rest = policy_text.get(at..)?;
        let trimmed = rest.trim_start();
        at += rest.len() - trimmed.len();
        if trimmed.starts_with("//") {
            at += trimmed.find('\n').map_or(trimmed.len(), |i| i + 1);
        } else if trimmed.starts_with('@') {
            // To the `)` that closes the annotation, outside its string
            let mut in_string = false;
            let mut escaped = false;
            let close = trimmed.char_indices().find(|&(_, c)| {
                if in_string {
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => in_string = false,
                        _ => {}
                    }
                    false
                } else {
                    in_string = c == '"';
                    c == ')'
                }
            })?;
            at += close.0 + 1;
        } else {
            return trimmed.starts_with(keyword).then_some(at);
        }
    }
}

/// The length of the line from byte `at`: how much of a policy's first
/// line a caret underlines
fn head_len(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|rest| rest.lines().next())
        .map_or(0, |line| line.trim_end().len())
}

/// Refuses a file longer than [`MAX_POLICY_FILE_LEN`]
pub(super) fn check_len(file: &str, len: usize) -> Result<(), FileTooLargeError> {
    if len > MAX_POLICY_FILE_LEN {
        return Err(FileTooLargeError::new(
            file,
            u64::try_from(len).unwrap_or(u64::MAX),
        ));
    }
    Ok(())
}

/// A file's policies in the order they appear: Cedar names them `policy0`,
/// `policy1`, … in source order
fn in_source_order(parsed: &PolicySet) -> Vec<&Policy> {
    let ordinal = |p: &Policy| {
        p.id()
            .to_string()
            .strip_prefix("policy")
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(usize::MAX)
    };
    let mut policies: Vec<&Policy> = parsed.policies().collect();
    policies.sort_by_key(|p| ordinal(p));
    policies
}

/// The 1-based line and the byte where `policy` (its text as written)
/// starts in `text`, searching from byte `from`, and the byte where it ends
/// (where the next search starts)
fn locate(text: &str, policy: &str, from: usize) -> (usize, usize, usize) {
    let line_at = |at: usize| text.get(..at).map_or(0, |b| b.matches('\n').count()) + 1;
    match text.get(from..).and_then(|rest| rest.find(policy)) {
        Some(i) => (line_at(from + i), from + i, from + i + policy.len()),
        None => (line_at(from), from, from),
    }
}

/// The policy's `@id`, checked like any other id; `at` is the annotation's
/// place, `head` the policy's first line
fn id_of<'p>(
    policy: &'p Policy,
    file: &str,
    at: Option<Location>,
    head: &Location,
) -> Result<&'p str, AnnotationError> {
    let id = policy.annotation("id").ok_or_else(|| {
        AnnotationError::new(
            file,
            format!(
                "a policy has no `@id` annotation: `{}`",
                head_of(&policy.to_string())
            ),
        )
        .at(
            Some(head.clone().with_label("this policy has no `@id`")),
            Some("give it one: `@id(\"kebab-case-id\")`".to_owned()),
        )
    })?;
    crate::model::ids::check_id(id).map_err(|e| {
        AnnotationError::new(file, format!("`@id`: {e}"))
            .at(at.map(|a| a.with_label(e.to_string())), None)
    })?;
    Ok(id)
}

/// The reason code of a `forbid` (required) or a `permit` (optional)
fn reason_of(policy: &Policy, id: &str) -> Result<Option<Reason>, ReasonError> {
    match (policy.effect(), policy.annotation("reason")) {
        (Effect::Forbid, None) => Err(ReasonError::new(
            id,
            "a forbid needs a `@reason` annotation",
        )),
        (_, Some(code)) => Reason::from_name(code).map(Some).ok_or_else(|| {
            ReasonError::new(
                id,
                format!("`@reason(\"{code}\")` is not a reason code of SPEC.md"),
            )
        }),
        (Effect::Permit, None) => Ok(None),
    }
}

/// Refuses text that nests brackets deeper than [`MAX_POLICY_NESTING`] or has
/// a policy with more than [`MAX_POLICY_OPERATORS`] operators, before Cedar's
/// recursive parser sees it; the error points at the first bracket or
/// operator past the limit
pub(super) fn check_shape(text: &str, file: &str, source: &Source) -> Result<(), PolicyLoadError> {
    let (mut depth, mut too_deep) = (0usize, None);
    let (mut ops, mut too_complex) = (0usize, None);
    let mut chars = text.char_indices().peekable();
    let mut in_string = false;
    while let Some((at, c)) = chars.next() {
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
            '/' if chars.peek().map(|&(_, c)| c) == Some('/') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_POLICY_NESTING {
                    too_deep.get_or_insert(at);
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ';' => ops = 0,
            '!' | '&' | '|' | '+' | '-' | '*' | '<' | '>' | '=' | '.' => {
                ops += 1;
                if ops > MAX_POLICY_OPERATORS {
                    too_complex.get_or_insert(at);
                }
            }
            _ => {}
        }
    }
    if let Some(at) = too_deep {
        let label = format!("bracket {} deep", MAX_POLICY_NESTING + 1);
        let at = Location::new(source, at..at + 1).with_label(label);
        return Err(NestingError::new(file, Some(at)).into());
    }
    if let Some(at) = too_complex {
        let label = format!("operator {} of this policy", MAX_POLICY_OPERATORS + 1);
        let at = Location::new(source, at..at + 1).with_label(label);
        return Err(ComplexityError::new(file, Some(at)).into());
    }
    Ok(())
}

/// The first line of a policy, for error messages
fn head_of(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('@'))
        .unwrap_or("")
        .chars()
        .take(80)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_located_on_the_line_they_start() {
        let text = "// two policies\n@id(\"a\")\npermit(principal, action, resource);\n\n\
                    @id(\"b\") permit(principal, action, resource);\n";
        let mut loaded = Loaded::default();
        let mut errors = Vec::new();
        loaded.add_file("x.cedar", text, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(loaded.origins["a"].line, 2);
        assert_eq!(loaded.origins["b"].line, 5);
        assert_eq!(loaded.origins["b"].file, "x.cedar");
    }

    #[test]
    fn identical_policy_texts_get_their_own_lines() {
        // Same text twice cannot load (same @id), but the search must move on.
        let p = "@id(\"a\") permit(principal, action, resource);";
        assert_eq!(locate(&format!("{p}\n{p}"), p, 0), (1, 0, p.len()));
        assert_eq!(
            locate(&format!("{p}\n{p}"), p, p.len()),
            (2, p.len() + 1, 2 * p.len() + 1)
        );
        assert_eq!(locate("nothing here", p, 3), (1, 3, 3));
    }

    #[test]
    fn the_effect_keyword_is_found_after_annotations_and_comments() {
        assert_eq!(
            keyword_at("@id(\"a\") permit (principal, action, resource);", "permit"),
            Some(9)
        );
        let text = "@id(\"a)\\\"b\")\n// permit? not here\n@reason(\"x\")\nforbid (principal, action, resource);";
        assert_eq!(
            text.get(keyword_at(text, "forbid").unwrap()..)
                .map(|t| &t[..6]),
            Some("forbid")
        );
        assert_eq!(
            keyword_at("@id(\"a\") forbid (principal, action, resource);", "permit"),
            None
        );
    }
}
