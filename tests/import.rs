//! Sheets into the log (`aidledger import`, docs/IMPORT.md): a hospital-needs sheet in
//! CSV or XLSX with a ready mapping, previewed by a dry run, then submitted as needs
//! relayed by the importer with their contacts in the private store; an aidledger
//! export imported into another instance through its own HXL hashtags; importing again
//! adds nothing; a sheet with errors is refused whole, naming rows and columns.

use crate::common;

use common::process::{command, path_str};
use common::{author, post_entry, public, signed, TestInstance};
use ed25519_dalek::SigningKey;
use ledger::checkpoint::LogVerifier;
use ledger::Kind;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// What a run of `aidledger import` printed, and whether it succeeded.
struct Imported {
    ok: bool,
    stdout: String,
    stderr: String,
}

async fn import(url: &str, key: &Path, extra: &[&str], sheet: &Path) -> Imported {
    let mut args: Vec<String> = ["import", "--url", url, "--key", path_str(key)]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(path_str(sheet).to_owned());
    let output = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        command(&args).output().unwrap()
    })
    .await
    .unwrap();
    Imported {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl Imported {
    fn assert_ok(&self, what: &str) -> &Self {
        assert!(
            self.ok,
            "{what} should succeed\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

fn key_file(dir: &Path, key: &SigningKey) -> PathBuf {
    let path = dir.join("importer.key");
    let file = serde_json::to_string(&aidledger::keys::author_key_file(key)).unwrap();
    aidledger::keys::write_private(&path, &file).unwrap();
    path
}

async fn log_size(instance: &TestInstance) -> u64 {
    let note = instance.client.checkpoint().await.unwrap();
    LogVerifier::new(&instance.vkey)
        .unwrap()
        .verify(note.as_bytes())
        .unwrap()
        .size
}

/// Every entry of the log, decoded.
async fn entries(instance: &TestInstance) -> Vec<Value> {
    let size = log_size(instance).await;
    let mut all = Vec::new();
    while (all.len() as u64) < size {
        let page = instance
            .client
            .entries(all.len() as u64, 1000)
            .await
            .unwrap();
        all.extend(
            page.iter()
                .map(|e| serde_json::from_slice(&e.leaf).unwrap()),
        );
    }
    all
}

async fn get(url: &str) -> Value {
    common::http()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The open needs of an instance, as the listing gives them.
async fn needs(instance: &TestInstance) -> Vec<Value> {
    let page = get(&format!("{}/api/v1/needs?per_page=100", instance.url)).await;
    page["items"].as_array().unwrap().clone()
}

const CANARY_PHONE: &str = "+86 27 8362 0000";
const CANARY_ADDRESS: &str = "Canary Street 7";

fn hospital_sheet(dir: &Path) -> PathBuf {
    let path = dir.join("needs.csv");
    let rows = [
        "医院,省份,城市,地址,联系人,联系电话,物资,数量,单位,规格,备注",
        &format!("协和医院,湖北,武汉,{CANARY_ADDRESS},王医生,{CANARY_PHONE},N95口罩,\"1,000\",只,GB 19083-2010,ICU 用"),
        &format!("协和医院,湖北,武汉,{CANARY_ADDRESS},王医生,{CANARY_PHONE},医用防护服,300,套,,"),
        "金银潭医院,湖北省,武汉,,,,呼吸机,3,台,,",
    ];
    std::fs::write(&path, format!("\u{feff}{}\n", rows.join("\n"))).unwrap();
    path
}

#[tokio::test]
async fn a_hospital_sheet_lands_after_a_dry_run_and_a_second_import_adds_nothing() {
    let instance = TestInstance::start().await;
    let dir = tempfile::tempdir().unwrap();
    let importer = author(121);
    let key = key_file(dir.path(), &importer);
    let hospital = author(122);
    let union_hospital = post_entry(
        &instance.url,
        signed(
            &hospital,
            Kind::OrgRegister,
            json!({"name": "协和医院", "type": "hospital", "area": {"code": "CN-HB", "name": "武汉"}}),
        ),
    )
    .await;
    let sheet = hospital_sheet(dir.path());
    let source = [
        "--mapping",
        "hospital-needs",
        "--source",
        "https://example.org/wuhan-needs",
    ];
    let before = log_size(&instance).await;

    let mut dry = source.to_vec();
    dry.push("--dry-run");
    let preview = import(&instance.url, &key, &dry, &sheet).await;
    preview.assert_ok("a dry run");
    for said in [
        "3 rows, 2 needs",
        "D «地址»",
        "F «联系电话»",
        &format!("organisation \"协和医院\": registered as {union_hospital}"),
        "organisation \"金银潭医院\": not registered here: to be registered",
        "rows 2, 3: 协和医院, CN-HB 武汉, high by",
        "N95口罩 1000 piece [respirator]; 医用防护服 300 set [gown_coverall]",
        "with private contact",
        "呼吸机 3 unit [ventilator]",
        "dry run: 2 needs would be submitted; nothing was submitted",
    ] {
        assert!(
            preview.stdout.contains(said),
            "the preview should say {said:?}:\n{}",
            preview.stdout
        );
    }
    assert!(!preview.stdout.contains(CANARY_PHONE), "{}", preview.stdout);
    assert_eq!(
        log_size(&instance).await,
        before,
        "a dry run submits nothing"
    );

    import(&instance.url, &key, &source, &sheet)
        .await
        .assert_ok("the import");
    // The new organisation, then the two needs.
    assert_eq!(log_size(&instance).await, before + 3);
    let needs = needs(&instance).await;
    assert_eq!(needs.len(), 2, "{needs:#?}");
    let union_need = needs
        .iter()
        .find(|n| n["org"]["id"] == union_hospital.as_str())
        .unwrap();
    assert_eq!(union_need["relayed"], true);
    assert_eq!(union_need["author"], public(&importer));
    assert_eq!(union_need["items"][0]["requested"], 1000);
    assert_eq!(union_need["items"][1]["unit"], "set");
    assert_eq!(
        union_need["evidence_url"],
        "https://example.org/wuhan-needs"
    );
    let jinyintan = needs
        .iter()
        .find(|n| n["org"]["id"] != union_hospital.as_str())
        .unwrap();
    assert_eq!(jinyintan["org"]["name"], "金银潭医院");
    let relayed_org = jinyintan["org"]["id"].as_str().unwrap();
    let members = get(&format!(
        "{}/api/v1/orgs/{relayed_org}/members",
        instance.url
    ))
    .await;
    assert_eq!(
        members["members"],
        json!([]),
        "an importer relays an organisation without becoming its member: {members}"
    );

    // The contact is in the private store, for the need's author, and nowhere in the log.
    let log = entries(&instance).await;
    for entry in &log {
        let text = entry.to_string();
        assert!(
            !text.contains(CANARY_PHONE) && !text.contains(CANARY_ADDRESS),
            "{text}"
        );
    }
    let relayed_registration = log
        .iter()
        .find(|e| e["kind"] == "org.register" && e["body"]["name"] == "金银潭医院")
        .unwrap();
    assert_eq!(relayed_registration["body"]["relayed"], true);
    let opened: Value = instance
        .client
        .get_signed(
            &format!("/api/v1/private/{}", union_need["id"].as_str().unwrap()),
            &importer,
        )
        .await
        .unwrap();
    assert!(opened.to_string().contains(CANARY_PHONE), "{opened}");

    let again = import(&instance.url, &key, &source, &sheet).await;
    again.assert_ok("a second import");
    assert!(
        again.stdout.contains("rows 2, 3: already in the log"),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("submitted 0 needs"),
        "{}",
        again.stdout
    );
    assert_eq!(
        log_size(&instance).await,
        before + 3,
        "a second import adds nothing"
    );
    instance.stop().await;
}

#[tokio::test]
async fn a_workbook_imports_from_its_first_worksheet_with_english_headers() {
    let instance = TestInstance::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &author(123));
    let workbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hospital-needs.xlsx");
    let args = [
        "--mapping",
        "hospital-needs",
        "--source",
        "https://example.org/sheet.xlsx",
    ];
    import(&instance.url, &key, &args, &workbook)
        .await
        .assert_ok("the workbook import");
    let needs = needs(&instance).await;
    assert_eq!(needs.len(), 2, "{needs:#?}");
    let union = needs
        .iter()
        .find(|n| n["items"].as_array().unwrap().len() == 2)
        .unwrap();
    assert_eq!(
        union["until"], "2099-03-01",
        "dates are read from date cells"
    );
    assert_eq!(union["items"][0]["category"], "respirator");
    assert_eq!(union["items"][0]["requested"], 2000);
    assert_eq!(union["items"][1]["category"], "gown_coverall");
    assert_eq!(union["area"]["code"], "CN-HB");
    for entry in entries(&instance).await {
        assert!(!entry.to_string().contains("Canary"), "{entry}");
    }
    let missing = import(
        &instance.url,
        &key,
        &["--mapping", "hospital-needs", "--worksheet", "Sheet9"],
        &workbook,
    )
    .await;
    assert!(!missing.ok);
    assert!(
        missing
            .stderr
            .contains("no worksheet named \"Sheet9\" (it has: 需求, Notes)"),
        "{}",
        missing.stderr
    );
    instance.stop().await;
}

#[tokio::test]
async fn a_sheet_with_errors_is_refused_whole_naming_each_row_and_column() {
    let instance = TestInstance::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &author(124));
    let sheet = dir.path().join("bad.csv");
    std::fs::write(
        &sheet,
        "hospital,province,item,quantity,unit,phone\n\
         Good Hospital,Hubei,Gloves,100,boxes,\n\
         Good Hospital,Hubei,Masks,lots,boxes,\n\
         Far Hospital,Atlantis,Gloves,5,boxes,\n\
         Good Hospital,Hubei,Gowns,5,barrels,\n\
         Good Hospital,Hubei,Goggles,5,boxes,call me\n",
    )
    .unwrap();
    let before = log_size(&instance).await;
    let refused = import(
        &instance.url,
        &key,
        &[
            "--mapping",
            "hospital-needs",
            "--source",
            "https://example.org/s",
        ],
        &sheet,
    )
    .await;
    assert!(!refused.ok, "{}", refused.stdout);
    for said in [
        "row 3, column D «quantity»: \"lots\" is not a whole number",
        "row 4, column B «province»: area \"Atlantis\" is neither a region code nor the name of a region",
        "row 5, column E «unit»: \"barrels\" is not a unit",
        "row 6, column F «phone»: private.contact.phone: only digits",
    ] {
        assert!(refused.stdout.contains(said), "should say {said:?}:\n{}", refused.stdout);
    }
    assert!(
        !refused.stdout.contains("call me"),
        "errors never repeat private data"
    );
    assert!(
        refused.stderr.contains("4 problems in")
            && refused.stderr.contains("nothing was submitted"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        log_size(&instance).await,
        before,
        "a refused sheet changes nothing"
    );

    let unmapped = import(&instance.url, &key, &[], &sheet).await;
    assert!(!unmapped.ok);
    assert!(
        unmapped.stderr.contains("needs a mapping") && unmapped.stderr.contains("hospital-needs"),
        "{}",
        unmapped.stderr
    );
    instance.stop().await;
}

#[tokio::test]
async fn an_export_of_one_instance_imports_into_another_through_its_hashtags() {
    let source = TestInstance::start().await;
    let hospital = author(125);
    let org = post_entry(
        &source.url,
        signed(
            &hospital,
            Kind::OrgRegister,
            json!({"name": "Wuhan Export Hospital", "type": "hospital", "area": {"code": "CN-HB", "name": "Wuhan"}}),
        ),
    )
    .await;
    let need_body = |items: Value, description: &str| {
        json!({
            "org": org, "items": items, "urgency": "critical", "needed_by": "2099-01-01",
            "area": {"code": "CN-HB", "name": "Wuhan"}, "description": description,
            "delivery_point": "Receiving dock 2",
        })
    };
    post_entry(
        &source.url,
        signed(
            &hospital,
            Kind::NeedPost,
            need_body(
                json!([
                    {"item": "N95 respirators", "category": "respirator", "quantity": 500, "unit": "piece", "spec": "NIOSH"},
                    {"item": "Nitrile gloves", "category": "gloves", "quantity": 40, "unit": "box"},
                ]),
                "-20 °C cold store needed",
            ),
        ),
    )
    .await;
    let closed = post_entry(
        &source.url,
        signed(
            &hospital,
            Kind::NeedPost,
            need_body(json!([{"item": "Oxygen", "category": "oxygen", "quantity": 9, "unit": "cylinder"}]), "met"),
        ),
    )
    .await;
    post_entry(
        &source.url,
        signed(
            &hospital,
            Kind::NeedUpdate,
            json!({"need": closed, "close": "met"}),
        ),
    )
    .await;
    let donor = author(127);
    post_entry(
        &source.url,
        signed(
            &donor,
            Kind::OfferPost,
            json!({
                "items": [{"item": "Surgical masks", "category": "surgical_mask", "quantity": 2000, "unit": "box"}],
                "area": {"code": "CN-GD", "name": "Guangzhou"}, "available_until": "2099-02-01",
            }),
        ),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let download = |dataset: &'static str| {
        let (url, dir) = (source.url.clone(), dir.path().to_owned());
        async move {
            let path = dir.join(format!("{dataset}.csv"));
            let csv = common::http()
                .get(format!("{url}/api/v1/export/{dataset}.csv"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            std::fs::write(&path, &csv).unwrap();
            path
        }
    };
    let export = download("needs").await;
    let offers = download("offers").await;

    let target = TestInstance::start().await;
    let key = key_file(dir.path(), &author(126));
    let from = format!("{}/api/v1/export/needs.csv", source.url);
    let imported = import(&target.url, &key, &["--source", &from], &export).await;
    imported.assert_ok("importing an export");
    assert!(
        imported
            .stdout
            .contains("row 5: skipped: its status is met"),
        "{}",
        imported.stdout
    );
    let needs = needs(&target).await;
    assert_eq!(needs.len(), 1, "{needs:#?}");
    let need = &needs[0];
    assert_eq!(need["items"][0]["item"], "N95 respirators");
    assert_eq!(need["items"][0]["spec"], "NIOSH");
    assert_eq!(need["items"][1]["requested"], 40);
    assert_eq!(need["items"][1]["unit"], "box");
    assert_eq!(need["urgency"], "critical");
    assert_eq!(need["until"], "2099-01-01");
    assert_eq!(
        need["description"], "-20 °C cold store needed",
        "the export's formula guard is undone"
    );
    assert_eq!(need["delivery_point"], "Receiving dock 2");
    assert_eq!(need["org"]["name"], "Wuhan Export Hospital");

    let size = log_size(&target).await;
    let again = import(&target.url, &key, &["--source", &from], &export).await;
    again.assert_ok("importing the export again");
    assert!(
        again.stdout.contains("already in the log"),
        "{}",
        again.stdout
    );
    assert_eq!(log_size(&target).await, size);

    import(&target.url, &key, &[], &offers)
        .await
        .assert_ok("importing offers");
    let page = get(&format!("{}/api/v1/offers", target.url)).await;
    let offer = &page["items"][0];
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(offer["items"][0]["item"], "Surgical masks");
    assert_eq!(offer["items"][0]["requested"], 2000);
    assert_eq!(offer["area"], json!({"code": "CN-GD", "name": "Guangzhou"}));
    assert_eq!(offer["until"], "2099-02-01");
    source.stop().await;
    target.stop().await;
}

#[tokio::test]
async fn a_sheet_saved_in_gb18030_is_read_when_its_encoding_is_named() {
    let instance = TestInstance::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &author(128));
    let utf8 = std::fs::read_to_string(hospital_sheet(dir.path())).unwrap();
    let (gbk, _, _) = encoding_rs::GB18030.encode(utf8.trim_start_matches('\u{feff}'));
    let sheet = dir.path().join("excel-zh.csv");
    std::fs::write(&sheet, &gbk).unwrap();
    let args = [
        "--mapping",
        "hospital-needs",
        "--source",
        "https://example.org/s",
        "--dry-run",
    ];
    let refused = import(&instance.url, &key, &args, &sheet).await;
    assert!(!refused.ok);
    assert!(
        refused.stderr.contains("not UTF-8 text") && refused.stderr.contains("--encoding gb18030"),
        "{}",
        refused.stderr
    );
    let mut named = args.to_vec();
    named.extend(["--encoding", "gb18030"]);
    let read = import(&instance.url, &key, &named, &sheet).await;
    read.assert_ok("a GB18030 sheet with its encoding named");
    assert!(
        read.stdout.contains("rows 2, 3: 协和医院, CN-HB 武汉"),
        "{}",
        read.stdout
    );
    instance.stop().await;
}
