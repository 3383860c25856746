//! One policy file at a time: size and shape limits, parsing, the `@id` and
//! `@reason` annotations, and where each policy starts (for error messages).

use std::str::FromStr;

use cedar_policy::{Effect, Policy, PolicyId, PolicySet};
use hashbrown::HashMap;

use super::policy_load_errors::{
    AnnotationError, ComplexityError, DuplicateIdError, FileTooLargeError, NestingError,
    PolicySyntaxError, ReasonError,
};
use super::{
    MAX_POLICY_FILE_LEN, MAX_POLICY_NESTING, MAX_POLICY_OPERATORS, PolicyInfo, PolicyLoadError,
    flatten,
};
use crate::model::vocab::Reason;

/// Where a policy comes from: its file and the 1-based line it starts on
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
}

impl Loaded {
    /// Checks, parses and adds every policy of one file
    pub(super) fn add_file(&mut self, name: &str, text: &str) -> Result<(), PolicyLoadError> {
        check_len(name, text.len())?;
        check_shape(text, name)?;
        let parsed =
            PolicySet::from_str(text).map_err(|e| PolicySyntaxError::new(name, flatten(&e)))?;
        if parsed.templates().next().is_some() {
            return Err(AnnotationError::new(name, "templates are not supported").into());
        }
        let mut start = 0;
        for policy in in_source_order(&parsed) {
            let line;
            (line, start) = locate(text, &policy.to_string(), start);
            self.add(
                policy,
                Origin {
                    file: name.to_owned(),
                    line,
                },
            )?;
        }
        Ok(())
    }

    /// Adds one policy under its `@id`, with its effect and reason code
    fn add(&mut self, policy: &Policy, origin: Origin) -> Result<(), PolicyLoadError> {
        let id = id_of(policy, &origin.file)?;
        if self.info.contains_key(id) {
            return Err(DuplicateIdError::new(id).into());
        }
        let reason = reason_of(policy, id)?;
        self.set
            .add(policy.new_id(PolicyId::new(id)))
            .map_err(|e| PolicySyntaxError::new(origin.file.as_str(), flatten(&e)))?;
        self.info.insert(
            id.to_owned(),
            PolicyInfo {
                effect: policy.effect(),
                reason,
            },
        );
        self.ids.push(id.to_owned());
        self.origins.insert(id.to_owned(), origin);
        Ok(())
    }
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

/// The 1-based line where `policy` (its text as written) starts in `text`,
/// searching from byte `from`, and the byte where the next search starts
fn locate(text: &str, policy: &str, from: usize) -> (usize, usize) {
    let line_at = |at: usize| text.get(..at).map_or(0, |b| b.matches('\n').count()) + 1;
    match text.get(from..).and_then(|rest| rest.find(policy)) {
        Some(i) => (line_at(from + i), from + i + policy.len()),
        None => (line_at(from), from),
    }
}

/// The policy's `@id`, checked like any other id
fn id_of<'p>(policy: &'p Policy, file: &str) -> Result<&'p str, AnnotationError> {
    let id = policy.annotation("id").ok_or_else(|| {
        AnnotationError::new(
            file,
            format!(
                "a policy has no `@id` annotation: `{}`",
                head(&policy.to_string())
            ),
        )
    })?;
    crate::model::ids::check_id(id)
        .map_err(|e| AnnotationError::new(file, format!("`@id`: {e}")))?;
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
/// recursive parser sees it
pub(super) fn check_shape(text: &str, file: &str) -> Result<(), PolicyLoadError> {
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
        return Err(NestingError::new(file).into());
    }
    if max_ops > MAX_POLICY_OPERATORS {
        return Err(ComplexityError::new(file).into());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_located_on_the_line_they_start() {
        let text = "// two policies\n@id(\"a\")\npermit(principal, action, resource);\n\n\
                    @id(\"b\") permit(principal, action, resource);\n";
        let mut loaded = Loaded::default();
        loaded.add_file("x.cedar", text).unwrap();
        assert_eq!(loaded.origins["a"].line, 2);
        assert_eq!(loaded.origins["b"].line, 5);
        assert_eq!(loaded.origins["b"].file, "x.cedar");
    }

    #[test]
    fn identical_policy_texts_get_their_own_lines() {
        // Same text twice cannot load (same @id), but the search must move on.
        let p = "@id(\"a\") permit(principal, action, resource);";
        assert_eq!(locate(&format!("{p}\n{p}"), p, 0), (1, p.len()));
        assert_eq!(
            locate(&format!("{p}\n{p}"), p, p.len()),
            (2, 2 * p.len() + 1)
        );
        assert_eq!(locate("nothing here", p, 3), (1, 3));
    }
}
