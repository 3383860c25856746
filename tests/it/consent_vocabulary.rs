//! The consent vocabulary declared with the policies (SPEC.md §7.2,
//! `policies/consent.toml`): the shipped file says what SPEC says, it is
//! part of the content hash, and a folder without one loads the shipped one.

use zorg_pdp::policy_load_errors::ConsentErrorKind;
use zorg_pdp::{
    CONSENT_FILE, Category, ConsentVocabulary, DataCategory, HolderCategory, Policies,
    PolicyLoadError, ProviderType, RequesterCategory, SCHEMA_FILE,
};

use crate::common::{self, CONSENT, SCHEMA, SHIPPED, TempDir};

fn shipped() -> &'static ConsentVocabulary {
    common::policies().vocabulary().consent()
}

fn data(c: &str) -> u16 {
    shipped()
        .data_index(&DataCategory::new(c).unwrap())
        .expect(c)
}

fn holder(c: &str) -> u16 {
    shipped()
        .holder_index(&HolderCategory::new(c).unwrap())
        .expect(c)
}

fn requester(c: &str) -> u16 {
    shipped()
        .requester_index(&RequesterCategory::new(c).unwrap())
        .expect(c)
}

fn provider(t: &str) -> Option<(u16, u16)> {
    shipped().provider(&ProviderType::new(t).unwrap())
}

#[test]
fn the_shipped_data_categories_and_their_hierarchy_are_spec_7_2() {
    let v = shipped();
    let codes: Vec<&str> = v
        .data_categories()
        .iter()
        .map(DataCategory::as_str)
        .collect();
    assert_eq!(codes, ["GGC002", "GGC012", "GGC013"]);
    let names: Vec<&str> = (0..3).map(|i| v.data_name(i).unwrap()).collect();
    assert_eq!(
        names,
        ["Behandelgegevens", "Uitslagen", "Medicatiegegevens"]
    );
    assert_eq!(v.data_name(3), None);
    // GGC002 covers GGC012 and GGC013; nothing covers GGC002
    assert_eq!(
        v.covers(),
        &[
            (data("GGC002"), data("GGC012")),
            (data("GGC002"), data("GGC013"))
        ]
    );
    assert_eq!(v.data_index(&DataCategory::new("GGC007").unwrap()), None);
}

#[test]
fn every_dashboard_category_has_its_shipped_data_category() {
    let vocabulary = common::policies().vocabulary();
    let v = vocabulary.consent();
    assert_eq!(vocabulary.categories().len(), 14);
    for (i, category) in vocabulary.categories().iter().enumerate() {
        let want = match category.as_str() {
            "labuitslagen" => "GGC012",
            "medicatie" => "GGC013",
            _ => "GGC002",
        };
        let position = u16::try_from(i).unwrap();
        assert_eq!(v.data_of_category(position), Some(data(want)), "{category}");
    }
    assert_eq!(v.data_of_category(14), None);
    let medicatie = vocabulary
        .categories()
        .iter()
        .position(|c| *c == Category::new("medicatie").unwrap())
        .unwrap();
    assert_eq!(
        v.data_of_category(u16::try_from(medicatie).unwrap())
            .and_then(|i| v.data_name(i)),
        Some("Medicatiegegevens")
    );
}

#[test]
fn the_shipped_holder_and_requesting_categories_are_spec_7_2() {
    let v = shipped();
    let holders: Vec<&str> = v
        .holder_categories()
        .iter()
        .map(HolderCategory::as_str)
        .collect();
    assert_eq!(
        holders,
        [
            "huisartsen",
            "apotheken",
            "ziekenhuizen",
            "verpleging_verzorging",
            "laboratoria",
            "ggz",
            "overige_zorg"
        ]
    );
    let requesters: Vec<&str> = v
        .requester_categories()
        .iter()
        .map(RequesterCategory::as_str)
        .collect();
    assert_eq!(
        requesters,
        [
            "RPZAC001", "RPZAC003", "RPZAC004", "RPZAC005", "RPZAC103", "RPZAC104", "RPZAC200"
        ]
    );
    assert_eq!(
        v.requester_name(requester("RPZAC200")),
        Some("Zorgaanbieders in de Europese Unie buiten Nederland")
    );
    assert_eq!(
        v.holder_name(holder("ziekenhuizen")),
        Some("Ziekenhuizen, medische centra en klinieken")
    );
    // The requesting category each holder category asks as
    for (h, r) in [
        ("huisartsen", "RPZAC001"),
        ("apotheken", "RPZAC005"),
        ("ziekenhuizen", "RPZAC104"),
        ("verpleging_verzorging", "RPZAC004"),
        ("laboratoria", "RPZAC104"),
        ("ggz", "RPZAC003"),
        ("overige_zorg", "RPZAC103"),
    ] {
        assert_eq!(v.holder_requester(holder(h)), Some(requester(r)), "{h}");
    }
    // No holder category asks as RPZAC200 (EU providers outside NL)
    let eu = requester("RPZAC200");
    assert!((0..7).all(|h| v.holder_requester(h) != Some(eu)));
}

#[test]
fn the_provider_type_table_is_the_notes_grouping() {
    for (t, h, r) in [
        ("Z3", "huisartsen", "RPZAC001"),
        ("V4", "ziekenhuizen", "RPZAC104"),
        ("K4", "verpleging_verzorging", "RPZAC004"),
        ("G3", "ziekenhuizen", "RPZAC104"),
        ("J8", "apotheken", "RPZAC005"),
        ("L1", "laboratoria", "RPZAC104"),
        ("G5", "ggz", "RPZAC003"),
        ("JGZ", "overige_zorg", "RPZAC103"),
    ] {
        assert_eq!(provider(t), Some((holder(h), requester(r))), "{t}");
    }
    // A type the table lacks belongs to no category (R42); codes are exact
    assert_eq!(provider("XX9"), None);
    assert_eq!(provider("z3"), None);
    // The 91 codes of the notes' seven runs, each in one holder category
    let v = shipped();
    assert_eq!(v.provider_type_count(), 91);
    let per_holder: Vec<usize> = (0..7)
        .map(|h| v.holder_provider_types(h).unwrap().len())
        .collect();
    assert_eq!(per_holder, [4, 3, 37, 16, 4, 3, 24]);
    for h in 0..7 {
        for t in v.holder_provider_types(h).unwrap() {
            assert_eq!(v.provider(t).map(|(hc, _)| hc), Some(h), "{t}");
        }
    }
}

/// The shipped files with a consent vocabulary of `text`
fn with_consent(text: &str) -> Result<Policies, PolicyLoadError> {
    let consent = [(CONSENT_FILE, text)];
    Policies::from_sources(SCHEMA, SHIPPED.iter().chain(&consent).copied())
}

#[test]
fn the_content_hash_covers_the_consent_vocabulary() {
    let shipped = common::policies().content_hash();
    // The shipped text given, or none given: the same set, the same hash
    assert_eq!(with_consent(CONSENT).unwrap().content_hash(), shipped);
    assert_eq!(common::shipped_with(&[]).unwrap().content_hash(), shipped);
    // A comment, a name, a mapping: each a new hash
    let mut seen = vec![shipped.to_owned()];
    for (from, to) in [
        ("# Mitz data categories", "# The Mitz data categories"),
        ("name = \"Uitslagen\"", "name = \"Resultaten\""),
        ("medicatie = \"GGC013\"", "medicatie = \"GGC002\""),
        ("  \"K4\", # Kraamzorg\n", ""),
    ] {
        assert!(CONSENT.contains(from), "{from}");
        let p = with_consent(&CONSENT.replacen(from, to, 1)).unwrap();
        assert!(!seen.iter().any(|h| h == p.content_hash()), "{from}");
        seen.push(p.content_hash().to_owned());
    }
    // ... and the change is in force
    let p = with_consent(&CONSENT.replacen("  \"K4\", # Kraamzorg\n", "", 1)).unwrap();
    assert_eq!(
        p.vocabulary()
            .consent()
            .provider(&ProviderType::new("K4").unwrap()),
        None
    );
}

#[test]
fn a_folder_loads_its_consent_toml_or_else_the_shipped_one() {
    let scratch = TempDir::new("consent-vocabulary");
    let dir = scratch.file("policies");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join(SCHEMA_FILE), SCHEMA).unwrap();
    for (name, text) in SHIPPED {
        std::fs::write(dir.join(name), text).unwrap();
    }
    // Without consent.toml: the shipped vocabulary, and the shipped hash
    let p = Policies::from_dir(&dir).unwrap();
    assert_eq!(p.content_hash(), common::policies().content_hash());
    assert_eq!(
        p.vocabulary().consent(),
        common::policies().vocabulary().consent()
    );
    // With one: it is read, and its errors name the file, line and column
    let text = CONSENT.replacen("requester = \"RPZAC005\"", "requester = \"RPZAC050\"", 1);
    std::fs::write(dir.join(CONSENT_FILE), &text).unwrap();
    let e = Policies::from_dir(&dir).unwrap_err();
    let PolicyLoadError::Consent(all) = &e else {
        panic!("{e:?}");
    };
    let one = all.iter().next().unwrap();
    assert_eq!(one.kind(), ConsentErrorKind::UndeclaredRequester);
    assert_eq!(one.field(), "holder_categories.apotheken.requester");
    let at = one.location().unwrap();
    let line = text.lines().position(|l| l.contains("RPZAC050")).unwrap() + 1;
    assert_eq!(
        (at.file(), at.line(), at.column()),
        (
            dir.join(CONSENT_FILE).display().to_string().as_str(),
            line,
            13
        )
    );
    assert!(
        e.to_string().contains(&format!(
            "line {line}, field `holder_categories.apotheken.requester`: `RPZAC050` is not declared"
        )),
        "{e}"
    );
    // A new mapping in the folder's file takes effect on load
    let text = CONSENT.replacen("echo = \"GGC002\"", "echo = \"GGC012\"", 1);
    std::fs::write(dir.join(CONSENT_FILE), &text).unwrap();
    let p = Policies::from_dir(&dir).unwrap();
    assert_ne!(p.content_hash(), common::policies().content_hash());
    let echo = p
        .vocabulary()
        .categories()
        .iter()
        .position(|c| c.as_str() == "echo")
        .unwrap();
    let consent = p.vocabulary().consent();
    assert_eq!(
        consent
            .data_of_category(u16::try_from(echo).unwrap())
            .and_then(|i| consent.data_name(i)),
        Some("Uitslagen")
    );
}

#[test]
fn a_schema_category_the_shipped_vocabulary_lacks_needs_a_consent_toml() {
    let schema = SCHEMA.replacen("\"psychosociaal\"", "\"psychosociaal\", \"wondzorg\"", 1);
    assert_ne!(schema, SCHEMA);
    let e = Policies::from_sources(&schema, SHIPPED.iter().copied()).unwrap_err();
    let PolicyLoadError::Consent(all) = &e else {
        panic!("{e:?}");
    };
    let one = all.iter().next().unwrap();
    assert_eq!(all.len(), 1, "{e}");
    assert_eq!(one.kind(), ConsentErrorKind::UnmappedCategory);
    assert_eq!(one.file(), "<shipped consent.toml>");
    assert!(one.message().contains("`wondzorg`"), "{one}");
    let help = miette::Diagnostic::help(one).unwrap().to_string();
    assert!(help.contains("put a `consent.toml` beside"), "{help}");
    // With a consent.toml that maps it, the set loads
    let consent = common::consent_with("wondzorg", "GGC002");
    let files = SHIPPED
        .iter()
        .copied()
        .chain([(CONSENT_FILE, consent.as_str())]);
    let p = Policies::from_sources(&schema, files).unwrap();
    assert_eq!(p.vocabulary().consent().data_of_category(14), Some(0));
}

#[test]
fn consent_errors_come_after_the_schemas_and_before_the_policy_files() {
    let schema = SCHEMA.replacen("entity Patient;", "entity Patient", 1);
    let broken = "@id(\"b-1\")\npermit (principal, action, resource) when { 1 + };\n";
    let consent = CONSENT.replacen("kind = \"GGC002\"", "kind = \"GGC099\"", 1);
    let files = [("a.cedar", broken), (CONSENT_FILE, consent.as_str())];
    let e = Policies::from_sources(&schema, files).unwrap_err();
    let PolicyLoadError::Several(all) = &e else {
        panic!("{e:?}");
    };
    let kinds: Vec<&str> = all
        .iter()
        .map(|e| match e {
            PolicyLoadError::Schema(_) => "schema",
            PolicyLoadError::Consent(_) => "consent",
            PolicyLoadError::Parse(_) => "parse",
            _ => "other",
        })
        .collect();
    let first_consent = kinds.iter().position(|k| *k == "consent").unwrap();
    assert!(
        kinds[..first_consent].iter().all(|k| *k == "schema"),
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&"parse"), "{kinds:?}");
    // Without the schema's categories the category checks are left out, the rest is not
    let PolicyLoadError::Consent(c) = all.iter().nth(first_consent).unwrap() else {
        unreachable!()
    };
    let found: Vec<(ConsentErrorKind, &str)> = c.iter().map(|e| (e.kind(), e.field())).collect();
    assert_eq!(
        found,
        [(
            ConsentErrorKind::UndeclaredDataCategory,
            "category_data.kind"
        )]
    );
}
