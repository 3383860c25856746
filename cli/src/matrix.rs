//! `matrix`: the effective role × category table as the engine decides it
//! (`zorg_pdp::analysis::matrix`), as text, Markdown, JSON or HTML.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use zorg_pdp::Reason;
use zorg_pdp::analysis::{self, Cell, Matrix, MatrixTable};

use crate::load_policies;
use crate::output::Console;

/// `matrix [--policies DIR] [--format F]`
#[derive(Debug, clap::Args)]
pub(crate) struct MatrixArgs {
    /// Load the schema and policies from this folder instead of the shipped ones
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The output formats
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// A grid: roles as rows, categories as columns
    Text,
    /// One Markdown table per situation
    Markdown,
    /// Machine-readable
    Json,
    /// A self-contained HTML page
    Html,
}

/// Prints the matrix; exit 0 (2 when the policies do not load)
pub(crate) fn run(args: &MatrixArgs, console: &mut Console) -> Result<ExitCode> {
    let policies = load_policies(args.policies.as_deref())?;
    let m = analysis::matrix(&policies)?;
    let source = match &args.policies {
        Some(dir) => dir.display().to_string(),
        None => "shipped".to_owned(),
    };
    let out = match args.format {
        Format::Text => text(&m, &source),
        Format::Markdown => markdown(&m, &source),
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&json(&m, &source))?),
        Format::Html => html(&m, &source),
    };
    console.out.write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// A cell in words: `allow`, or `deny: reason, reason`
fn words(cell: &Cell) -> String {
    if cell.is_allowed() {
        "allow".to_owned()
    } else {
        format!("deny: {}", names(&cell.reasons))
    }
}

fn names(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The distinct deny reason sets of a table, in order of first appearance
fn deny_sets(table: &MatrixTable) -> Vec<&[Reason]> {
    let mut sets: Vec<&[Reason]> = Vec::new();
    for cell in table.rows.iter().flatten() {
        if !cell.is_allowed() && !sets.contains(&cell.reasons.as_slice()) {
            sets.push(&cell.reasons);
        }
    }
    sets
}

/// The marker of the `i`-th deny reason set: `a`, `b`, … `z`, `a2`, …
fn marker(i: usize) -> String {
    let letter = char::from(b'a' + u8::try_from(i % 26).unwrap_or(0));
    match i / 26 {
        0 => letter.to_string(),
        n => format!("{letter}{}", n + 1),
    }
}

fn text(m: &Matrix, source: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Role x category matrix, as the engine decides it");
    let _ = writeln!(s, "policies: {source} ({})", m.policies);
    let _ = writeln!(
        s,
        "yes = the view is allowed; a letter = denied, for the reasons under the table"
    );
    let role_width = m
        .roles
        .iter()
        .map(|r| r.as_str().len())
        .max()
        .unwrap_or(4)
        .max(4);
    for table in &m.tables {
        let sets = deny_sets(table);
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", table.situation.title());
        let _ = writeln!(s, "  {}", table.situation.description());
        let _ = writeln!(s);
        let _ = write!(s, "{:<role_width$}", "role");
        for c in &m.categories {
            let _ = write!(s, "  {}", c.as_str());
        }
        let _ = writeln!(s);
        for (role, row) in m.roles.iter().zip(&table.rows) {
            let mut line = format!("{:<role_width$}", role.as_str());
            for (c, cell) in m.categories.iter().zip(row) {
                let mark = if cell.is_allowed() {
                    "yes".to_owned()
                } else {
                    let i = sets
                        .iter()
                        .position(|r| *r == cell.reasons.as_slice())
                        .unwrap_or(0);
                    marker(i)
                };
                let width = c.as_str().len();
                let _ = write!(line, "  {mark:<width$}");
            }
            let _ = writeln!(s, "{}", line.trim_end());
        }
        for (i, reasons) in sets.iter().enumerate() {
            let _ = writeln!(s, "  {} = deny: {}", marker(i), names(reasons));
        }
    }
    s
}

/// A Markdown table cell's text (`|` would end the cell)
fn md(text: &str) -> String {
    text.replace('|', "\\|")
}

fn markdown(m: &Matrix, source: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Role × category matrix, as the engine decides it");
    let _ = writeln!(s);
    let _ = writeln!(s, "Policies: {} (`{}`)", md(source), m.policies);
    for table in &m.tables {
        let _ = writeln!(s);
        let _ = writeln!(s, "## {}", table.situation.title());
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", table.situation.description());
        let _ = writeln!(s);
        let _ = write!(s, "| role |");
        for c in &m.categories {
            let _ = write!(s, " {} |", md(c.as_str()));
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "|---|{}", "---|".repeat(m.categories.len()));
        for (role, row) in m.roles.iter().zip(&table.rows) {
            let _ = write!(s, "| {} |", md(role.as_str()));
            for cell in row {
                let _ = write!(s, " {} |", md(&words(cell)));
            }
            let _ = writeln!(s);
        }
    }
    s
}

fn json(m: &Matrix, source: &str) -> serde_json::Value {
    let tables: Vec<serde_json::Value> = m
        .tables
        .iter()
        .map(|t| {
            let rows: Vec<serde_json::Value> = m
                .roles
                .iter()
                .zip(&t.rows)
                .map(|(role, row)| {
                    let cells: Vec<serde_json::Value> = m
                        .categories
                        .iter()
                        .zip(row)
                        .map(|(c, cell)| {
                            serde_json::json!({
                                "category": c.as_str(),
                                "decision": cell.decision,
                                "reasons": cell.reasons,
                            })
                        })
                        .collect();
                    serde_json::json!({ "role": role.as_str(), "cells": cells })
                })
                .collect();
            serde_json::json!({
                "situation": t.situation.as_str(),
                "title": t.situation.title(),
                "description": t.situation.description(),
                "rows": rows,
            })
        })
        .collect();
    serde_json::json!({
        "policies": source,
        "content_hash": m.policies,
        "roles": m.roles.iter().map(zorg_pdp::Role::as_str).collect::<Vec<_>>(),
        "categories": m.categories.iter().map(zorg_pdp::Category::as_str).collect::<Vec<_>>(),
        "tables": tables,
    })
}

/// Text for HTML: `& < > " '` escaped
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html(m: &Matrix, source: &str) -> String {
    let mut s = String::new();
    s.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Role × category matrix</title>\n<style>\n\
         body { font-family: sans-serif; margin: 1em; }\n\
         table { border-collapse: collapse; margin-bottom: 2em; }\n\
         th, td { border: 1px solid #999; padding: 0.2em 0.4em; text-align: center; }\n\
         th.role { text-align: left; }\n\
         td.allow { background: #d7f5d7; }\n\
         td.deny { background: #f8d7d7; font-size: smaller; }\n\
         </style>\n</head>\n<body>\n<h1>Role × category matrix, as the engine decides it</h1>\n",
    );
    let _ = writeln!(
        s,
        "<p>Policies: {} (<code>{}</code>)</p>",
        escape(source),
        escape(&m.policies)
    );
    for table in &m.tables {
        let _ = writeln!(s, "<h2>{}</h2>", escape(table.situation.title()));
        let _ = writeln!(s, "<p>{}</p>", escape(table.situation.description()));
        let _ = write!(s, "<table>\n<thead><tr><th class=\"role\">role</th>");
        for c in &m.categories {
            let _ = write!(s, "<th>{}</th>", escape(c.as_str()));
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        for (role, row) in m.roles.iter().zip(&table.rows) {
            let _ = write!(s, "<tr><th class=\"role\">{}</th>", escape(role.as_str()));
            for cell in row {
                let class = if cell.is_allowed() { "allow" } else { "deny" };
                let _ = write!(s, "<td class=\"{class}\">{}</td>", escape(&words(cell)));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n</table>\n");
    }
    s.push_str("</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_text_is_escaped_and_markers_count_on() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(marker(0), "a");
        assert_eq!(marker(25), "z");
        assert_eq!(marker(26), "a2");
        assert_eq!(md("a|b"), "a\\|b");
    }
}
