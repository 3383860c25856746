//! A JUnit XML report of a `test` run, for the CI systems vendors use: one
//! `<testsuite>` per scenario file, one `<testcase>` per expectation that
//! ran, a `<failure>` with its message for each that failed, an `<error>` for
//! each error of a file that could not run (docs/authoring.md, "JUnit").

use std::collections::BTreeMap;
use std::fmt::Write as _;

use zorg_pdp::RunReport;
use zorg_pdp::scenario::Case;

/// Text for XML: `&`, `<`, `>`, `"` and `'` as references, tab, line feed
/// and carriage return as character references (so attribute values keep
/// them), and the characters XML 1.0 does not allow as U+FFFD
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// One file's cases and errors
#[derive(Default)]
struct Suite<'r> {
    cases: Vec<&'r Case>,
    errors: Vec<String>,
}

/// The name of a case in the report: its label, line and name
fn case_name(case: &Case) -> String {
    let mut name = case.label.clone();
    if let Some(line) = case.line {
        let _ = write!(name, " (line {line})");
    }
    if let Some(n) = &case.name {
        let _ = write!(name, ": {n}");
    }
    name
}

/// The report as JUnit XML; `set` and `hash` name the policy set that ran
pub(crate) fn report(report: &RunReport, set: &str, hash: &str) -> String {
    let mut suites: BTreeMap<&str, Suite<'_>> = BTreeMap::new();
    for case in &report.cases {
        suites
            .entry(case.file.as_str())
            .or_default()
            .cases
            .push(case);
    }
    for e in &report.errors {
        suites
            .entry(e.file())
            .or_default()
            .errors
            .push(e.to_string());
    }
    let failures: usize = report.cases.iter().filter(|c| !c.passed()).count();
    let tests = report.cases.len() + report.errors.len();
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"zorg-pdp test\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\">",
        report.errors.len()
    );
    for (file, suite) in &suites {
        let file_x = escape(file);
        let failed = suite.cases.iter().filter(|c| !c.passed()).count();
        let _ = writeln!(
            x,
            "  <testsuite name=\"{file_x}\" tests=\"{}\" failures=\"{failed}\" errors=\"{}\" skipped=\"0\">",
            suite.cases.len() + suite.errors.len(),
            suite.errors.len()
        );
        let _ = writeln!(x, "    <properties>");
        let _ = writeln!(
            x,
            "      <property name=\"policy_set\" value=\"{}\"/>",
            escape(set)
        );
        let _ = writeln!(
            x,
            "      <property name=\"content_hash\" value=\"{}\"/>",
            escape(hash)
        );
        let _ = writeln!(x, "    </properties>");
        for case in &suite.cases {
            let name = escape(&case_name(case));
            match &case.failure {
                None => {
                    let _ = writeln!(x, "    <testcase classname=\"{file_x}\" name=\"{name}\"/>");
                }
                Some(f) => {
                    let message = format!("expected {}, got {}", f.expected, f.actual);
                    let _ = writeln!(x, "    <testcase classname=\"{file_x}\" name=\"{name}\">");
                    let _ = writeln!(
                        x,
                        "      <failure message=\"{}\" type=\"expectation\">{}</failure>",
                        escape(&message),
                        escape(&f.to_string())
                    );
                    let _ = writeln!(x, "    </testcase>");
                }
            }
        }
        for (i, e) in suite.errors.iter().enumerate() {
            let _ = writeln!(
                x,
                "    <testcase classname=\"{file_x}\" name=\"the file can be used ({})\">",
                i + 1
            );
            let _ = writeln!(
                x,
                "      <error message=\"{}\" type=\"scenario\">{}</error>",
                escape(e),
                escape(e)
            );
            let _ = writeln!(x, "    </testcase>");
        }
        let _ = writeln!(x, "  </testsuite>");
    }
    x.push_str("</testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_makes_any_text_safe_for_xml() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(escape("x\ny\tz\r"), "x&#10;y&#9;z&#13;");
        assert_eq!(escape("bell\u{7}nul\u{0}"), "bell\u{FFFD}nul\u{FFFD}");
        assert_eq!(escape("ë ✓"), "ë ✓");
    }
}
