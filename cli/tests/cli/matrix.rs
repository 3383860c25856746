//! `zorg-pdp matrix`: the shipped matrix in every format shows R12 (a
//! kraamverzorgende without echo, labuitslagen, voorgeschiedenis and
//! psychosociaal; a gynaecoloog with every birth-care category), output is
//! deterministic, HTML is escaped, a broken folder is exit 2.

use std::fs;

use crate::helpers::{TempDir, path, stderr, stdout, zorg};

const HIDDEN_FROM_KRAAM: [&str; 4] = ["echo", "labuitslagen", "voorgeschiedenis", "psychosociaal"];
const SEEN_BY_KRAAM: [&str; 6] = [
    "basis",
    "zwangerschap",
    "bevalling",
    "kraambed",
    "kind",
    "medicatie",
];
const BIRTH_CARE: [&str; 6] = [
    "basis",
    "zwangerschap",
    "bevalling",
    "kraambed",
    "kind",
    "echo",
];

/// (role, category) -> allowed, read back from one format's output (the own-dossier table)
type Cells = Vec<(String, String, bool)>;

fn allowed(cells: &Cells, role: &str, category: &str) -> bool {
    cells
        .iter()
        .find(|(r, c, _)| r == role && c == category)
        .unwrap_or_else(|| panic!("no cell {role} x {category}"))
        .2
}

fn check_r12(cells: &Cells, format: &str) {
    for c in HIDDEN_FROM_KRAAM {
        assert!(
            !allowed(cells, "kraamverzorgende", c),
            "{format}: kraamverzorgende sees {c}"
        );
    }
    for c in SEEN_BY_KRAAM {
        assert!(
            allowed(cells, "kraamverzorgende", c),
            "{format}: kraamverzorgende misses {c}"
        );
    }
    for c in BIRTH_CARE {
        assert!(
            allowed(cells, "gynaecoloog", c),
            "{format}: gynaecoloog misses {c}"
        );
    }
    // 12 roles x 14 categories
    assert_eq!(cells.len(), 12 * 14, "{format}");
}

fn matrix(format: &str) -> String {
    let out = zorg(&["matrix", "--format", format]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

fn text_cells(text: &str) -> Cells {
    // The first table: its header line starts with `role`, rows follow up to the legend
    let mut lines = text.lines().skip_while(|l| !l.starts_with("role "));
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().skip(1).collect();
    let mut cells = Vec::new();
    for line in lines.take_while(|l| !l.starts_with("  ")) {
        let mut words = line.split_whitespace();
        let role = words.next().unwrap();
        for (c, mark) in header.iter().zip(words) {
            cells.push((role.to_owned(), (*c).to_owned(), mark == "yes"));
        }
    }
    cells
}

fn markdown_cells(text: &str) -> Cells {
    let mut rows = text.lines().filter(|l| l.starts_with("| "));
    let split = |l: &str| -> Vec<String> {
        l.trim_matches('|')
            .split(" | ")
            .map(|s| s.trim().to_owned())
            .collect()
    };
    let header = split(rows.next().unwrap());
    let mut cells = Vec::new();
    for row in rows {
        let row = split(row);
        if row[0] == "role" {
            break; // the next table
        }
        for (c, cell) in header.iter().zip(&row).skip(1) {
            cells.push((row[0].clone(), c.clone(), cell == "allow"));
        }
    }
    cells
}

fn json_cells(text: &str) -> Cells {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(v["tables"][0]["situation"], "own_dossier");
    let mut cells = Vec::new();
    for row in v["tables"][0]["rows"].as_array().unwrap() {
        for cell in row["cells"].as_array().unwrap() {
            cells.push((
                row["role"].as_str().unwrap().to_owned(),
                cell["category"].as_str().unwrap().to_owned(),
                cell["decision"] == "allow",
            ));
        }
    }
    cells
}

fn html_cells(text: &str) -> Cells {
    let table = text
        .split("<table>")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    let header: Vec<&str> = table
        .split("<th>")
        .skip(1)
        .map(|h| h.split("</th>").next().unwrap())
        .collect();
    let mut cells = Vec::new();
    for row in table.split("<tr><th class=\"role\">").skip(2) {
        let role = row.split("</th>").next().unwrap();
        for (c, td) in header.iter().zip(row.split("<td class=\"").skip(1)) {
            cells.push((role.to_owned(), (*c).to_owned(), td.starts_with("allow")));
        }
    }
    cells
}

#[test]
fn the_shipped_matrix_shows_r12_in_every_format() {
    check_r12(&text_cells(&matrix("text")), "text");
    check_r12(&markdown_cells(&matrix("markdown")), "markdown");
    check_r12(&json_cells(&matrix("json")), "json");
    check_r12(&html_cells(&matrix("html")), "html");
    // Denied cells say why
    assert!(matrix("text").contains("a = deny: role_not_permitted"));
    assert!(matrix("markdown").contains("| deny: role_not_permitted |"));
    let json: serde_json::Value = serde_json::from_str(&matrix("json")).unwrap();
    let kraam = json["tables"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "kraamverzorgende")
        .unwrap();
    let echo = kraam["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "echo")
        .unwrap();
    assert_eq!(echo["reasons"], serde_json::json!(["role_not_permitted"]));
    assert_eq!(json["tables"][1]["situation"], "shared_dossier");
}

#[test]
fn the_matrix_is_deterministic_and_names_its_policies() {
    for format in ["text", "markdown", "json", "html"] {
        assert_eq!(matrix(format), matrix(format), "{format}");
    }
    let text = matrix("text");
    assert!(text.contains("policies: shipped (sha256:"), "{text}");
    assert!(text.contains("own dossier (R5, R12)"));
}

#[test]
fn html_is_self_contained_and_escaped() {
    let dir = TempDir::new("matrix-html");
    let odd = dir.0.join("a<b>&\"c'");
    fs::create_dir_all(&odd).unwrap();
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
    for entry in fs::read_dir(shipped).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            fs::copy(&p, odd.join(p.file_name().unwrap())).unwrap();
        }
    }
    let out = zorg(&["matrix", "--format", "html", "--policies", path(&odd)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = stdout(&out);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(html.contains("a&lt;b&gt;&amp;&quot;c&#39;"), "{html}");
    assert!(!html.contains("a<b>"));
    // Nothing is fetched: no scripts, links or remote resources
    for outside in ["<script", "<link", "src=", "http"] {
        assert!(!html.contains(outside), "{outside}");
    }
    check_r12(&html_cells(&html), "html from a folder");
}

#[test]
fn a_broken_policy_folder_is_exit_2() {
    let dir = TempDir::new("matrix-broken");
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
    fs::copy(
        format!("{shipped}/zorg.cedarschema"),
        dir.0.join("zorg.cedarschema"),
    )
    .unwrap();
    fs::write(
        dir.0.join("bad.cedar"),
        "@id(\"x\") permit (principal, action, resource) when {",
    )
    .unwrap();
    let out = zorg(&["matrix", "--policies", path(&dir.0)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.cedar"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}
