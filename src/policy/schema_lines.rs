//! Where a declaration or an attribute is in the schema text, for error
//! messages: a small scanner of Cedar's schema syntax that skips comments
//! and strings and finds `type N`, `entity N` and `action N` declarations
//! and the `name:` / `name?:` attributes inside them.

/// What a token is
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A name or keyword (letters, digits, `_`)
    Word,
    /// A quoted string, without its quotes
    Str,
    /// One other character
    Punct,
}

/// One token and the byte where it starts
#[derive(Debug, Clone, Copy)]
struct Token<'t> {
    kind: Kind,
    text: &'t str,
    at: usize,
}

/// The tokens of a schema text, comments left out
fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        if b.is_ascii_whitespace() {
            i += 1;
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while bytes.get(i).is_some_and(|&c| c != b'\n') {
                i += 1;
            }
        } else if b == b'"' {
            i += 1;
            while let Some(&c) = bytes.get(i) {
                i += if c == b'\\' { 2 } else { 1 };
                if c == b'"' {
                    break;
                }
            }
            let end = i.saturating_sub(1).max(start + 1);
            out.push(Token {
                kind: Kind::Str,
                text: text.get(start + 1..end).unwrap_or(""),
                at: start,
            });
        } else if b.is_ascii_alphanumeric() || b == b'_' {
            while bytes
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                i += 1;
            }
            out.push(Token {
                kind: Kind::Word,
                text: text.get(start..i).unwrap_or(""),
                at: start,
            });
        } else {
            // One character, however many bytes it takes
            let len = text
                .get(i..)
                .and_then(|r| r.chars().next())
                .map_or(1, char::len_utf8);
            i += len;
            out.push(Token {
                kind: Kind::Punct,
                text: text.get(start..i).unwrap_or(""),
                at: start,
            });
        }
    }
    out
}

/// The 1-based line of byte `at`
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at).map_or(0, |b| b.matches('\n').count()) + 1
}

/// A kind of declaration
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decl {
    /// `type Name = …;`
    Type,
    /// `entity Name, … …;`
    Entity,
    /// `action name, "name" … appliesTo { … };`
    Action,
}

impl Decl {
    fn keyword(self) -> &'static str {
        match self {
            Decl::Type => "type",
            Decl::Entity => "entity",
            Decl::Action => "action",
        }
    }
}

/// The tokens of the declaration of `name`: from its keyword to its `;`
fn declaration<'a, 't>(tokens: &'a [Token<'t>], decl: Decl, name: &str) -> Option<&'a [Token<'t>]> {
    let is_name = |t: &Token<'_>| matches!(t.kind, Kind::Word | Kind::Str);
    let start = (0..tokens.len()).find(|&i| {
        let Some(keyword) = tokens.get(i) else {
            return false;
        };
        if keyword.kind != Kind::Word || keyword.text != decl.keyword() {
            return false;
        }
        // The names after the keyword, separated by commas
        let mut j = i + 1;
        while let Some(t) = tokens.get(j).filter(|t| is_name(t)) {
            if t.text == name {
                return true;
            }
            if tokens.get(j + 1).is_some_and(|c| c.text == ",") {
                j += 2;
            } else {
                break;
            }
        }
        false
    })?;
    let mut depth = 0usize;
    let rest = tokens.get(start..)?;
    let end = rest
        .iter()
        .position(|t| {
            match t.text {
                "{" | "[" => depth += 1,
                "}" | "]" => depth = depth.saturating_sub(1),
                ";" if depth == 0 => return true,
                _ => {}
            }
            false
        })
        .map_or(rest.len(), |e| e + 1);
    rest.get(..end)
}

/// The line where `name` is declared as `decl` in `text` and, when
/// `attribute` is given and declared in it (`attribute:` or `attribute?:`),
/// the line of the attribute instead; `None` when the declaration is not found
pub(super) fn line(text: &str, decl: Decl, name: &str, attribute: Option<&str>) -> Option<usize> {
    let tokens = tokens(text);
    let found = declaration(&tokens, decl, name)?;
    let attribute_at = attribute.and_then(|attribute| {
        found.windows(2).find_map(|w| match w {
            [a, next]
                if matches!(a.kind, Kind::Word | Kind::Str)
                    && a.text == attribute
                    && matches!(next.text, ":" | "?") =>
            {
                Some(a.at)
            }
            _ => None,
        })
    });
    let at = attribute_at.or_else(|| found.first().map(|t| t.at))?;
    Some(line_of(text, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "// a type: not this one\n\
                        type Ctx = {\n  mfa: Bool,\n  \"holder\"?: Organisation, // holder: here\n};\n\
                        entity A, Practitioner = {\n  role: Role,\n};\n\
                        action view, \"view_record\" appliesTo {\n  context: { x: Bool }\n};\n";

    #[test]
    fn declarations_and_attributes_are_found_on_their_lines() {
        assert_eq!(line(TEXT, Decl::Type, "Ctx", None), Some(2));
        assert_eq!(line(TEXT, Decl::Type, "Ctx", Some("mfa")), Some(3));
        assert_eq!(line(TEXT, Decl::Type, "Ctx", Some("holder")), Some(4));
        // Not declared: the declaration's own line
        assert_eq!(line(TEXT, Decl::Type, "Ctx", Some("role")), Some(2));
        assert_eq!(
            line(TEXT, Decl::Entity, "Practitioner", Some("role")),
            Some(7)
        );
        assert_eq!(line(TEXT, Decl::Entity, "A", None), Some(6));
        assert_eq!(line(TEXT, Decl::Action, "view_record", None), Some(9));
        assert_eq!(line(TEXT, Decl::Action, "view", Some("x")), Some(10));
        assert_eq!(line(TEXT, Decl::Action, "share", None), None);
        assert_eq!(line(TEXT, Decl::Type, "Missing", None), None);
    }

    #[test]
    fn odd_text_does_not_panic() {
        for text in [
            "\"",
            "type",
            "type Ctx = { \"",
            "é ü // \n type ü = {",
            "action \"a\\",
        ] {
            let _ = line(text, Decl::Type, "Ctx", Some("a"));
            let _ = line(text, Decl::Action, "a", None);
        }
    }
}
