//! English and Chinese: every string a page shows. `tr` looks a key up in [`STRINGS`];
//! `value` translates a value of a closed vocabulary (category, unit, status, …). A
//! test checks that every key the pages use is here in both languages.

use ledger::fault::FaultCode;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The first of our languages an `Accept-Language` header names, by its order
    /// and weights (`zh-CN,zh;q=0.9,en;q=0.8` is Chinese); English if none.
    pub fn preferred(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut fields = part.split(';');
            let tag = fields
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let weight = fields
                .find_map(|f| f.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or_default();
            if let Some(lang) = Lang::parse(primary) {
                if best.is_none_or(|(w, _)| weight > w) {
                    best = Some((weight, lang));
                }
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }
}

fn pick(lang: Lang, (en, zh): (&'static str, &'static str)) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// The text of `key`; the key itself if it is missing (the test makes sure none is).
pub fn tr(lang: Lang, key: &'static str) -> &'static str {
    STRINGS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or(key, |(_, en, zh)| pick(lang, (en, zh)))
}

/// The label of value `value` of vocabulary `group`; unknown values show as they are.
pub fn value(lang: Lang, group: &str, value: &str) -> String {
    VALUES
        .iter()
        .find(|(g, v, _, _)| *g == group && *v == value)
        .map_or(value, |(_, _, en, zh)| pick(lang, (en, zh)))
        .to_owned()
}

/// The key of the sentence that explains a refusal's code.
pub fn fault_key(code: FaultCode) -> &'static str {
    match code {
        FaultCode::Required => "fault.required",
        FaultCode::TooLong => "fault.too_long",
        FaultCode::ControlCharacters => "fault.control_characters",
        FaultCode::Quantity => "fault.quantity",
        FaultCode::LineCount => "fault.line_count",
        FaultCode::RepeatedLine => "fault.repeated_line",
        FaultCode::Date => "fault.date",
        FaultCode::RegionCode => "fault.region_code",
        FaultCode::Url => "fault.url",
        FaultCode::EvidenceMissing => "fault.evidence_missing",
        FaultCode::Phone => "fault.phone",
        FaultCode::Email => "fault.email",
        FaultCode::Invalid => "fault.invalid",
        FaultCode::DatePassed => "fault.date_passed",
        FaultCode::AboveRemaining => "fault.above_remaining",
        FaultCode::BelowPledged => "fault.below_pledged",
        FaultCode::NeedClosed => "fault.need_closed",
        FaultCode::OrgRejected => "fault.org_rejected",
        FaultCode::EvidenceRequired => "fault.evidence_required",
        FaultCode::AlreadyAccepted => "fault.already_accepted",
        FaultCode::TooManyOpenNeeds => "fault.too_many_open_needs",
        FaultCode::NotAllowed => "fault.not_allowed",
    }
}

/// The label key of a board filter.
pub fn filter_label(param: &str) -> &'static str {
    match param {
        "category" => "filter.category",
        "area" => "filter.area",
        "status" => "filter.status",
        "urgency" => "filter.urgency",
        "verified" => "filter.verified",
        _ => "filter.sort",
    }
}

pub const UNITS: &[&str] = &[
    "piece", "pair", "box", "carton", "bottle", "litre", "kilogram", "unit", "set", "dose",
    "cylinder",
];
pub const URGENCIES: &[&str] = &["critical", "high", "medium", "low"];
pub const STATUSES: &[&str] = &["open", "met", "withdrawn", "expired"];
pub const VERIFICATIONS: &[&str] = &["verified", "pending", "rejected"];
pub const SORTS: &[&str] = &["relevance", "urgency", "deadline", "recent"];
pub const ORG_TYPES: &[&str] = &[
    "hospital", "clinic", "shelter", "charity", "carrier", "company",
];
pub const CONDITIONS: &[&str] = &["good", "damaged", "partial"];

pub const STRINGS: &[(&str, &str, &str)] = &[
    ("app.tagline", "A public, tamper-evident ledger for crowdsourced disaster aid", "公开、防篡改的众包救灾物资账本"),
    ("app.footer", "Every entry is signed by its author and appended to a public Merkle log. Anyone can verify it.", "每条记录都由作者签名并追加到公开的默克尔日志中，任何人都可以验证。"),
    ("nav.skip", "Skip to content", "跳到正文"),
    ("nav.label", "Main", "主导航"),
    ("nav.board", "Needs", "需求"),
    ("nav.post_need", "Post a need", "发布需求"),
    ("nav.post_offer", "Offer supplies", "捐赠物资"),
    ("nav.orgs", "Organisations", "机构"),
    ("nav.moderation", "Review", "审核"),
    ("nav.audit", "Audit", "审计"),
    ("nav.keys", "My key", "我的密钥"),
    ("nav.other_language", "中文", "English"),
    ("key.status.loading", "Loading your key…", "正在载入密钥…"),
    ("key.status.signed_in", "Signing as", "签名身份"),
    ("key.status.locked", "Your key is locked: unlock it on the My key page", "密钥已锁定：请在“我的密钥”页面解锁"),
    ("key.status.none", "No key in this browser yet", "此浏览器中还没有密钥"),
    ("load.loading", "Loading…", "加载中…"),
    ("load.failed", "Could not load:", "无法加载："),
    ("notfound.title", "Page not found", "页面不存在"),
    ("notfound.back", "Back to the needs board", "返回需求列表"),
    ("board.title", "Needs", "物资需求"),
    ("board.search_label", "Search needs", "搜索需求"),
    ("board.search_placeholder", "masks, 口罩, ventilator…", "口罩、防护服、masks…"),
    ("board.search", "Search", "搜索"),
    ("board.results", "needs found", "条需求"),
    ("board.result", "need found", "条需求"),
    ("board.pages", "Pages", "分页"),
    ("board.prev", "Previous", "上一页"),
    ("board.next", "Next", "下一页"),
    (
        "board.estimated",
        "Many matches: counts (≈) estimated from a sample",
        "匹配结果较多：数量（≈）按抽样估算",
    ),
    ("filter.any", "Any", "全部"),
    ("filter.category", "Category", "类别"),
    ("filter.area", "Area", "地区"),
    ("filter.status", "Status", "状态"),
    ("filter.urgency", "Urgency", "紧急程度"),
    ("filter.verified", "Verification", "核实状态"),
    ("filter.sort", "Sort by", "排序"),
    ("items.caption", "Items requested and what remains", "所需物资及缺口"),
    ("items.item", "Item", "物资"),
    ("items.requested", "Requested", "需求量"),
    ("items.pledged", "Pledged", "已认捐"),
    ("items.delivered", "Delivered", "已送达"),
    ("items.remaining", "Still needed", "仍缺"),
    ("need.title", "Need", "需求"),
    ("need.relayed", "Relayed by a volunteer", "志愿者转发"),
    ("need.needed_by", "Needed by", "截止日期"),
    ("need.area", "Area", "地区"),
    ("need.posted", "Posted", "发布时间"),
    ("need.org", "Organisation", "机构"),
    ("need.evidence", "Source", "信息来源"),
    ("need.entry", "Entry", "记录哈希"),
    ("chain.title", "The chain of this need", "此需求的完整链条"),
    ("chain.by", "by", "作者"),
    ("chain.line", "line", "第"),
    ("verify.button", "Verify in this browser", "在浏览器中验证"),
    ("verify.hint", "Checks the log's signature on the checkpoint and, for every link, the author's signature, the inclusion proof and the link to the entry before it — here, not on the server.", "在本地检查检查点的日志签名，以及每一环节的作者签名、包含证明和与前一条记录的关联——不依赖服务器。"),
    ("verify.passed", "Verified.", "验证通过。"),
    ("verify.failed", "Verification failed:", "验证失败："),
    ("verify.checkpoint", "Every link is in the signed checkpoint of size", "所有环节都包含在已签名的检查点中，树大小"),
    ("verify.link_ok", "signature, inclusion and link verified", "签名、包含证明和关联均已验证"),
    ("fault.required", "Please fill this in.", "请填写此项。"),
    ("fault.too_long", "Too long: at most {n} characters.", "太长了：最多 {n} 个字符。"),
    ("fault.control_characters", "Remove the invisible control characters (pasted text can carry them).", "请删除其中不可见的控制字符（粘贴的文本可能带有）。"),
    ("fault.quantity", "Enter a whole number from 1 to {n}.", "请填写 1 到 {n} 之间的整数。"),
    ("fault.line_count", "List from 1 to {n} items.", "请列出 1 到 {n} 项物资。"),
    ("fault.repeated_line", "This item is listed twice.", "此物资重复列出了。"),
    ("fault.date", "Enter a date (year-month-day).", "请填写日期（年-月-日）。"),
    ("fault.region_code", "Enter a region code such as CN-HB (Hubei) or CN (all of China).", "请填写地区代码，例如 CN-HB（湖北）或 CN（全国）。"),
    ("fault.url", "Enter a web address starting with https://.", "请填写以 https:// 开头的网址。"),
    ("fault.evidence_missing", "Give a source address or a photo for the evidence.", "请为证据提供来源网址或照片。"),
    ("fault.phone", "A phone number holds only digits, spaces and + - ( ).", "电话号码只能包含数字、空格和 + - ( )。"),
    ("fault.email", "Enter an e-mail address such as name@example.org.", "请填写电子邮箱地址，例如 name@example.org。"),
    ("fault.invalid", "This value is not accepted here.", "此处不接受这个值。"),
    ("fault.date_passed", "This date has already passed. Choose today or a later day.", "该日期已过，请选择今天或之后的日期。"),
    ("fault.above_remaining", "Only {n} are still open on this line.", "此项仅剩 {n} 未满足。"),
    ("fault.below_pledged", "{n} are already pledged: the quantity cannot go below that.", "已有 {n} 被认捐：数量不能低于此数。"),
    ("fault.need_closed", "This need is closed: it takes no more pledges or changes.", "该需求已关闭，不再接受认捐或修改。"),
    ("fault.org_rejected", "A moderator rejected this organisation, so it cannot post needs.", "该机构已被审核员驳回，不能发布需求。"),
    ("fault.evidence_required", "You are not a member of this organisation: give a source (a link to where the need was published) to relay it.", "您不是该机构的成员：转发需求时请提供来源（需求发布处的链接）。"),
    ("fault.already_accepted", "This pledge was already accepted.", "该认捐已被接受。"),
    ("fault.too_many_open_needs", "The organisation already has {n} open needs. Close some first.", "该机构已有 {n} 条未关闭的需求，请先关闭一些。"),
    ("fault.not_allowed", "Your key may not do this here.", "您的密钥无权在此执行此操作。"),
    ("steps.title", "From nothing to a posted need", "从零开始发布需求"),
    ("steps.key", "1. Make your key (it signs what you post)", "1. 创建密钥（用于签署您发布的内容）"),
    ("steps.backup", "2. Back it up: download the key file", "2. 备份：下载密钥文件"),
    ("steps.org", "3. Register your organisation, or join it", "3. 登记您的机构，或加入已登记的机构"),
    ("steps.post", "4. Post the need", "4. 发布需求"),
    ("steps.done", "done", "已完成"),
    ("steps.join_hint", "Already registered by a colleague? Ask them to add your key on the organisation's page (send them your public key from My key). Otherwise register it here.", "同事已登记过您的机构？请他们在机构页面添加您的密钥（在“我的密钥”中把公钥发给他们）。否则请在此登记。"),
    ("post.choose_org", "Choose the organisation…", "请选择机构…"),
    ("org.update", "Change the delivery point or description", "修改收货点或简介"),
    ("org.update_submit", "Sign and save the change", "签署并保存修改"),
    ("board.which", "Needs or offers", "需求或捐赠"),
    ("offers.title", "Offers", "可捐物资"),
    ("offers.search_label", "Search offers", "搜索可捐物资"),
    ("offers.results", "offers found", "条捐赠"),
    ("offers.result", "offer found", "条捐赠"),
    ("offer.title", "Offer", "捐赠"),
    ("offer.until", "Available until", "可供至"),
    ("offer.by", "Offered by", "捐赠者"),
    ("offer.how_to_give", "To give these supplies, find a need they fit and pledge on its page.", "如需捐出这些物资，请找到合适的需求并在其页面认捐。"),
    ("items.offered", "Offered", "捐赠量"),
    ("items.available", "Still available", "尚可认捐"),
    ("post_offer.view", "See the offer", "查看此捐赠"),
    ("matches.offers", "Offers that fit this need", "适合此需求的捐赠"),
    ("matches.needs", "Needs this offer could fill", "此捐赠可满足的需求"),
    ("matches.none", "Nothing fits yet.", "暂无匹配。"),
    ("matches.same_area", "Same area", "同一地区"),
    ("matches.same_country", "Same country", "同一国家"),
    ("matches.elsewhere", "Elsewhere", "其他地区"),
    ("matches.up_to", "up to", "最多"),
    ("matches.same_item", " (same item)", "（同一物资）"),
    ("matches.pledge_from_offer", "Pledge from my offer (one step)", "从我的捐赠中认捐（一步完成）"),
    ("pledge.all_pledged", "Everything this need asks for is pledged.", "此需求所需物资已全部被认捐。"),
    ("log.title", "The log, entry by entry", "日志：逐条记录"),
    ("log.hint", "Every entry anyone signed, in the order the log holds them, newest first. To prove that an entry is in the log and that the log was never rewritten, use", "任何人签署的每条记录，按日志顺序排列，最新的在前。如需证明某条记录确在日志中、且日志从未被改写，请使用"),
    ("log.size", "Entries in the log:", "日志记录总数："),
    ("log.newer", "Newer entries", "较新的记录"),
    ("log.older", "Older entries", "较早的记录"),
    ("log.browse", "Browse the log, entry by entry", "逐条浏览日志"),
    ("audit.checkpoint_means", "A checkpoint is the log's signed promise: \"these are my first N entries, and this hash sums them all up\". Verifying its signature proves the log's operator made that promise; nobody else could have.", "检查点是日志签署的承诺：“这是我的前 N 条记录，这个哈希概括了它们全部”。验证其签名可证明这一承诺确由日志运营方作出，他人无法伪造。"),
    ("audit.consistency_means", "Save a checkpoint today and check it against a later one: if the later one extends it, every entry you saw then is still there, unchanged and in the same place. Nothing was deleted or edited; the log only grew.", "今天保存一个检查点，日后与新的检查点比对：若新检查点是它的延续，您当时看到的每条记录仍在原处且未被改动。没有任何记录被删除或编辑，日志只增不改。"),
    ("audit.lookup_means", "Find one entry and prove it is included in the latest checkpoint: the proof is a short list of hashes that, with the entry, add up to the checkpoint's hash. Its author's signature is checked too.", "查找一条记录并证明它包含在最新检查点中：证明是一小串哈希，与该记录一起可推算出检查点的哈希。同时也会核对作者的签名。"),
    ("audit.raw", "Show the entry as the log holds it (JSON)", "显示日志中的原始记录（JSON）"),
    ("flag.title", "Report a problem with this need", "报告此需求的问题"),
    ("flag.kind", "What is wrong", "问题类型"),
    ("flag.reason", "Why (what you saw, and where)", "原因（您看到了什么，在哪里）"),
    ("flag.original", "The earlier need it repeats (its entry hash)", "它所重复的较早需求（记录哈希）"),
    ("flag.submit", "Sign and report", "签署并报告"),
    ("need.stale_flags", "Reported no longer current:", "被报告已过时："),
    ("need.duplicate_of", "Reported as a duplicate of", "被报告重复于"),
    ("form.needs_key", "Create or unlock your key first (My key).", "请先创建或解锁密钥（我的密钥）。"),
    ("load.not_found", "There is no such entry in this log. It may have been mistyped, or it belongs to another instance.", "此日志中没有该条目。可能是链接有误，或它属于另一个实例。"),
    ("load.unreachable", "The server could not be reached. Check your connection and try again; nothing was lost.", "无法连接服务器。请检查网络后重试；没有任何数据丢失。"),
    ("key.confirm_replace", "This replaces the key in this browser. Without a backup file the old key is lost for good, and with it the right to act for what it signed. Replace it?", "这会替换本浏览器中的密钥。若没有备份文件，旧密钥将永久丢失，您也将无法再以它的身份操作。确定替换吗？"),
    ("key.confirm_forget", "This removes the key from this browser. Without a backup file it is lost for good. Remove it?", "这会从本浏览器中删除密钥。若没有备份文件，它将永久丢失。确定删除吗？"),
    ("key.backup_needed", "Your key is not backed up yet. Download the key file now (protect it with a passphrase) and keep it somewhere safe: nobody, not even the operator, can recover a lost key.", "您的密钥尚未备份。请立即下载密钥文件（建议设置口令保护）并妥善保存：密钥丢失后，任何人（包括运营方）都无法找回。"),
    ("key.backup_now", "Back up my key", "备份我的密钥"),
    ("need.key_first", "To pledge, first make a key in this browser (and back it up):", "如需认捐，请先在本浏览器中生成密钥（并备份）："),
    ("need.who_may", "Pledges are accepted and deliveries confirmed by the hospital's members; each shipment is recorded by the donor who pledged. Sign in with such a key to see those forms.", "认捐的接受与收货确认由该机构成员完成；发货由认捐的捐赠方登记。使用相应密钥即可看到这些表单。"),
    ("mod.only_moderators", "Only moderators give verdicts and read contacts. An administrator can appoint you from the key page.", "只有审核员可以给出审核结论和查看联系方式。管理员可以在密钥页面任命您。"),
    ("org.members", "Members", "成员"),
    ("org.member_since", "member since entry", "成为成员的记录"),
    ("org.members_hint", "Members act for the organisation: they post its needs, accept pledges and confirm deliveries. Members add and remove members; keep at least two, so that losing one key never locks the organisation out.", "成员代表机构发布需求、接受认捐并确认收货。成员可以添加和移除成员；请至少保留两位，这样丢失一个密钥也不会失去对机构的控制。"),
    ("roles.title", "My roles", "我的角色"),
    ("roles.key", "Public key", "公钥"),
    ("roles.role", "Role", "角色"),
    ("roles.change", "Change", "操作"),
    ("roles.grant", "Appoint", "任命"),
    ("roles.revoke", "Remove", "撤销"),
    ("roles.submit", "Sign and record", "签名并记录"),
    ("roles.admin_only", "Administrators appoint and remove moderators and administrators.", "管理员可以任命和撤销审核员与管理员。"),
    ("nojs.title", "Signing needs JavaScript", "签名需要 JavaScript"),
    ("nojs.body", "Entries are signed with your key inside your browser, so this form needs JavaScript. Nothing you typed was recorded or kept. Turn JavaScript on and try again, or sign with the command-line tool (aidledger sign, then aidledger submit).", "记录在您的浏览器中用您的密钥签名，因此此表单需要 JavaScript。您填写的内容没有被记录或保存。请启用 JavaScript 后重试，或使用命令行工具签名（aidledger sign，然后 aidledger submit）。"),
    ("feed.needs", "Follow these needs (Atom feed)", "订阅这些需求（Atom 订阅源）"),
    ("feed.org", "Follow everything about this organisation's needs (Atom feed)", "订阅该机构需求的所有动态（Atom 订阅源）"),
    ("feed.author", "Follow what answers my entries (Atom feed)", "订阅对我的记录的回应（Atom 订阅源）"),
    ("post_need.register_first", "You are not a member of any organisation: register yours first (you become its first member), or post on another's behalf with a source link as evidence.", "您还不是任何机构的成员：请先登记您的机构（您将成为其首位成员），或代表其他机构发布并附上信息来源链接作为证据。"),
    ("post.remove_item", "Remove this item", "删除此物资"),
    ("form.sending", "Signing and sending…", "正在签名并提交…"),
    ("form.done", "Recorded in the log as entry", "已记入日志，序号"),
    ("form.quantities", "Quantities", "数量"),
    ("form.up_to", "up to", "最多"),
    ("contact.legend", "Private contact (optional)", "私密联系方式（可选）"),
    ("contact.hint", "Never published: only a commitment goes into the log. Moderators and your counterpart may read it, and every read is recorded.", "不会公开：日志中只记录承诺值。审核员和对接方可以查看，每次查看都会被记录。"),
    ("contact.name", "Contact person", "联系人"),
    ("contact.phone", "Phone", "电话"),
    ("contact.email", "E-mail", "电子邮件"),
    ("contact.address", "Address", "地址"),
    ("pledge.title", "Pledge supplies to this need", "为此需求认捐物资"),
    ("pledge.submit", "Sign and pledge", "签名并认捐"),
    ("shipment.title", "Record a shipment for pledge", "登记发货，认捐"),
    ("shipment.deliver_to", "Deliver to", "送货地点"),
    ("shipment.no_point", "The hospital has not published a delivery point: show its contact once it has accepted your pledge.", "该机构尚未公布收货地点：对方接受认捐后可查看其联系方式。"),
    ("accept.title", "Accept pledge", "接受认捐"),
    ("accept.hint", "Accepting lets this donor see your need's private contact (the read is recorded). Accept only donors you want to hear from.", "接受后，该捐赠方可以查看此需求的私密联系方式（每次查看都会被记录）。只接受您愿意联系的捐赠方。"),
    ("accept.note", "Note to the donor (public)", "给捐赠方的留言（公开）"),
    ("accept.submit", "Sign and accept", "签名并接受"),
    ("accept.accepted", "Accepted", "已接受"),
    ("accept.waiting", "Waiting for the hospital to accept", "等待对方接受"),
    ("contact.show_need", "Show the hospital's contact", "查看对方联系方式"),
    ("contact.show_donor", "Show the donor's contact", "查看捐赠方联系方式"),
    ("need.delivery_point", "Deliver to", "送货地点"),
    ("post.delivery_point", "Delivery point: a receiving dock or goods entrance, with hours (public; no personal names or phones)", "收货地点：收货处或货物入口及时间（公开；请勿填写个人姓名或电话）"),
    ("shipment.carrier", "Carrier", "承运方"),
    ("shipment.tracking", "Tracking reference", "运单号"),
    ("shipment.submit", "Sign and record shipment", "签名并登记发货"),
    ("delivery.title", "Confirm delivery of shipment", "确认收货，发货"),
    ("delivery.condition", "Condition", "货物状况"),
    ("delivery.note", "Note", "备注"),
    ("delivery.submit", "Sign and confirm delivery", "签名并确认收货"),
    ("post.org", "Organisation", "机构"),
    ("post.items", "Items", "物资清单"),
    ("post.item", "Item", "物资名称"),
    ("post.category", "Category", "类别"),
    ("post.quantity", "Quantity", "数量"),
    ("post.unit", "Unit", "单位"),
    ("post.spec", "Specification or standard", "规格或标准"),
    ("post.add_item", "Add an item", "添加物资"),
    ("post.urgency", "Urgency", "紧急程度"),
    ("post.needed_by", "Needed by", "截止日期"),
    ("post.area_code", "Region code (ISO 3166)", "地区代码（ISO 3166）"),
    ("post.area_name", "Region name", "地区名称"),
    ("post.description", "Description", "说明"),
    ("post.evidence_url", "Source link (volunteers relaying a need)", "信息来源链接（志愿者转发时填写）"),
    ("post.available_until", "Available until", "可供至"),
    ("post_need.title", "Post a need", "发布物资需求"),
    ("post_need.hint", "Members of an organisation post its needs; a volunteer may relay one on its behalf with a source link.", "机构成员发布本机构的需求；志愿者可附上信息来源代为转发。"),
    ("post_need.submit", "Sign and post the need", "签名并发布需求"),
    ("post_need.view", "View the need", "查看需求"),
    ("post_offer.title", "Offer supplies", "捐赠物资"),
    ("post_offer.submit", "Sign and post the offer", "签名并发布捐赠"),
    ("orgs.title", "Organisations", "机构"),
    ("orgs.register", "Register an organisation", "登记机构"),
    ("orgs.submit", "Sign and register", "签名并登记"),
    ("orgs.view", "View the organisation", "查看机构"),
    ("org.title", "Organisation", "机构"),
    ("org.name", "Name", "名称"),
    ("org.type", "Type", "类型"),
    ("org.verified_by", "Moderators who verified it", "已核实的审核员人数"),
    ("key.title", "My key", "我的密钥"),
    ("key.hint", "Your ed25519 key is made and kept in this browser; it never leaves it. Everything you write is signed with it.", "您的 ed25519 密钥在此浏览器中生成并保存，绝不会离开浏览器。您提交的每条记录都用它签名。"),
    ("key.public", "Public key", "公钥"),
    ("key.manage", "Manage", "管理"),
    ("key.passphrase", "Passphrase (optional)", "口令（可选）"),
    ("key.passphrase_hint", "With a passphrase (8 characters or more), the key is stored and exported sealed; you type it to unlock or import.", "设置口令（至少 8 个字符）后，密钥会加密保存和导出，解锁或导入时需要输入。"),
    ("key.generate", "Generate a new key", "生成新密钥"),
    ("key.export", "Export to a file", "导出到文件"),
    ("key.unlock", "Unlock", "解锁"),
    ("key.forget", "Remove from this browser", "从此浏览器删除"),
    ("key.file", "Key file", "密钥文件"),
    ("key.import", "Import", "导入"),
    ("key.generated", "A new key was generated and stored in this browser.", "已生成新密钥并保存在此浏览器中。"),
    ("key.exported", "The key file was downloaded.", "密钥文件已下载。"),
    ("key.imported", "The key was imported.", "密钥已导入。"),
    ("key.unlocked", "The key is unlocked.", "密钥已解锁。"),
    ("key.forgotten", "The key was removed from this browser.", "密钥已从此浏览器删除。"),
    ("key.entries", "My entries", "我的记录"),
    ("nav.activity", "My activity", "我的动态"),
    ("form.at_least", "at least", "不少于"),
    ("update.title", "Update or close this need", "更新或关闭此需求"),
    (
        "update.hint",
        "Change what you ask for (never below what donors already pledged), or close the need when it is met or no longer needed. Everything is recorded in the public log.",
        "修改所需数量（不能低于已认捐的数量），或在需求已满足或不再需要时关闭。所有更改都记录在公开账本中。",
    ),
    ("update.close", "Close the need", "关闭需求"),
    ("update.keep_open", "Keep it open", "保持开放"),
    ("update.submit", "Sign and update", "签名并更新"),
    ("update.nothing", "Nothing changed: change a quantity or choose how to close the need.", "没有更改：请修改数量或选择关闭方式。"),
    (
        "update.confirm_close",
        "Close this need? A closed need cannot be opened again, and donors can no longer pledge to it.",
        "确定关闭此需求吗？关闭后不能重新开放，捐赠者也无法再认捐。",
    ),
    ("activity.title", "My activity", "我的动态"),
    (
        "activity.key_first",
        "Your activity is read for the key in this browser. Make or import a key first:",
        "动态按本浏览器中的密钥读取。请先生成或导入密钥：",
    ),
    ("activity.public", "Anyone can read this on your", "任何人都可以在您的"),
    ("activity.public_link", "public page", "公开页面查看这些内容"),
    ("activity.changed", "New or changed since your last visit:", "自上次访问以来新增或变化："),
    ("activity.changed_badge", "new", "新"),
    (
        "activity.empty",
        "Nothing here yet: pledge to a need on the board, or post one.",
        "暂无动态：可以在需求列表中认捐，或发布需求。",
    ),
    ("activity.waiting_you", "Waiting for you", "等待您处理"),
    ("activity.waiting", "Waiting for this key", "等待此密钥处理"),
    ("activity.accept", "Accept the pledge", "接受认捐"),
    ("activity.confirm", "Confirm the delivery", "确认收货"),
    ("activity.needs", "Needs", "需求"),
    ("activity.donations", "Pledges and shipments", "认捐与发货"),
    ("activity.verdicts", "Verdicts given", "给出的审核结论"),
    ("activity.pledged", "pledged", "认捐"),
    ("activity.shipped", "shipped", "已发货"),
    ("activity.delivered", "delivered", "已送达"),
    ("author.title", "An author's activity", "作者动态"),
    ("key.entries_none", "No entries yet.", "暂无记录。"),
    ("mod.title", "Review queue", "审核队列"),
    ("mod.hint", "Organisations short of the verification quorum, and needs and offers without enough verdicts, most pressing first: urgency, time waiting and pledges waiting on the verdict make the priority. Only moderators' verdicts are accepted by the log.", "尚未达到核实人数的机构，以及结论不足的需求和捐赠，最紧迫的在前：优先级由紧急程度、等待时间和等待此结论的认捐数决定。日志只接受审核员的结论。"),
    ("mod.empty", "Nothing awaits review.", "没有待审核的条目。"),
    ("mod.verifies", "verifications:", "已核实："),
    ("mod.reason", "Reason", "理由"),
    ("mod.verify", "Sign: verified", "签名：核实通过"),
    ("mod.reject", "Sign: rejected", "签名：驳回"),
    ("mod.show_contact", "Show private contact", "查看私密联系方式"),
    ("mod.filter", "Show", "显示"),
    ("mod.waiting", "entries await review", "条待审核"),
    ("mod.read_recorded", "This read was recorded.", "本次查看已被记录。"),
    ("mod.priority", "priority", "优先级"),
    ("mod.for_org", "For", "所属机构："),
    ("mod.evidence", "Evidence:", "证据："),
    ("mod.photo", "photo SHA-256", "照片 SHA-256"),
    ("mod.pledges_waiting", "pledges wait on this verdict", "项认捐在等待此审核结论"),
    ("mod.author", "Author", "作者"),
    ("mod.history.posts", "needs and offers", "条需求与捐赠"),
    ("mod.history.orgs", "organisations", "个机构"),
    ("mod.history.links", "donation steps", "个捐赠环节"),
    ("mod.history.verified", "verified", "已核实"),
    ("mod.history.rejected", "rejected", "被驳回"),
    ("mod.history.since", "since entry", "始于记录"),
    ("mod.similar", "Possible duplicates (same organisation or author, same kind of items):", "可能重复（同一机构或作者、同类物资）："),
    ("mod.flag_duplicate", "Flag as a duplicate of an earlier one", "标记为较早条目的重复"),
    ("audit.title", "Audit", "审计"),
    ("audit.hint", "Check the log yourself: every check below runs in this browser with the same code as the command-line verifier.", "亲自检查日志：以下每项检查都在浏览器中运行，与命令行验证工具使用相同代码。"),
    ("audit.checkpoint", "Latest checkpoint", "最新检查点"),
    ("audit.verify_checkpoint", "Verify its signature", "验证签名"),
    ("audit.save", "Save it in this browser", "保存在此浏览器"),
    ("audit.saved", "Saved the checkpoint of size", "已保存检查点，树大小"),
    ("audit.size", "size", "大小"),
    ("audit.root", "root", "根哈希"),
    ("audit.consistency", "Has the log only grown?", "日志是否只增不改？"),
    ("audit.saved_checkpoint", "Saved checkpoint", "已保存的检查点"),
    ("audit.check", "Check against the latest", "与最新检查点比对"),
    ("audit.consistent", "The log only grew:", "日志只增未改："),
    ("audit.forked", "The latest checkpoint does not extend the saved one: the log was rewritten.", "最新检查点不是已保存检查点的延续：日志被改写。"),
    ("audit.shrunk", "The latest checkpoint is smaller than the saved one: the log was rewritten.", "最新检查点比已保存的更小：日志被改写。"),
    ("audit.lookup", "Find an entry", "查找记录"),
    ("audit.lookup_label", "Entry hash (64 hex digits) or index", "记录哈希（64 位十六进制）或序号"),
    ("audit.lookup_hint", "Enter an index or a 64-digit lowercase hex hash.", "请输入序号或 64 位小写十六进制哈希。"),
    ("audit.find", "Find and verify", "查找并验证"),
    ("audit.no_entry", "No entry at that index in the latest checkpoint.", "最新检查点中没有该序号的记录。"),
    ("audit.bad_hash", "The server sent a malformed hash.", "服务器返回了格式错误的哈希。"),
    ("audit.not_included", "The inclusion proof does not verify.", "包含证明验证失败。"),
    ("audit.included", "signature verified, included in the checkpoint of size", "签名已验证，包含在检查点中，树大小"),
    ("nav.stats", "Totals", "统计"),
    ("stats.title", "Totals", "物资统计"),
    ("stats.intro", "What the needs ask for, and how much of it has been pledged, shipped and delivered, by category, region and day. Quantities add up only within one unit, so each line is for one unit.", "各需求所需物资及其认捐、发货、送达情况，按类别、地区和日期统计。数量只在同一单位内相加，因此每行只对应一种单位。"),
    ("stats.show", "Show totals", "查看统计"),
    ("stats.to_board", "See these needs on the board", "在需求列表中查看这些需求"),
    ("stats.none", "No needs match these filters.", "没有符合这些条件的需求。"),
    ("stats.needs", "needs", "项需求"),
    ("stats.open", "open", "项未完成"),
    ("stats.totals", "All selected needs", "所选需求合计"),
    ("stats.over_time", "Over time", "随时间变化"),
    ("stats.by_category", "By category", "按类别"),
    ("stats.by_region", "By region", "按地区"),
    ("stats.regions_first", "Regions with most needs:", "需求最多的地区："),
    ("stats.see_needs", "see the needs", "查看需求"),
    ("stats.shipped", "Shipped", "已发货"),
    ("stats.top", "scale up to", "纵轴最大值"),
    ("stats.days", "Day by day", "每日明细"),
    ("stats.day", "Day", "日期"),
    ("stats.new_needs", "Needs posted", "新需求"),
    ("stats.pledges", "Pledges", "认捐"),
    ("stats.shipments", "Shipments", "发货"),
    ("stats.deliveries", "Deliveries confirmed", "确认送达"),
    ("board.stats", "Totals for these needs", "这些需求的统计"),
    ("receipt.pledge_title", "Pledge receipt", "认捐凭证"),
    ("receipt.shipment_title", "Shipment receipt", "发货凭证"),
    ("receipt.to", "For", "受赠方"),
    ("receipt.by", "Signed by (key)", "签名者（密钥）"),
    ("receipt.date", "Written", "时间"),
    ("receipt.carrier", "Carrier and tracking", "承运商及运单号"),
    ("receipt.quantity", "Quantity", "数量"),
    ("receipt.scan_to_confirm", "The receiving hospital scans this to confirm delivery.", "收货医院扫描此码确认送达。"),
    ("receipt.scan_to_open", "Scan to open the need and its chain.", "扫码查看需求及其记录链。"),
    ("receipt.since", "Since then", "此后"),
    ("receipt.proof", "Proof in the public log", "公开日志中的证明"),
    ("receipt.proof_text", "This entry is signed by its author and included in the log's signed checkpoint. Anyone can check the whole chain, signatures and inclusion proofs, with the command below.", "此记录由作者签名，并包含在日志已签名的检查点中。任何人都可以用下面的命令核对整条记录链、签名和包含证明。"),
    ("receipt.entry", "Entry", "记录"),
    ("receipt.checkpoint", "Checkpoint size when printed", "打印时的检查点大小"),
    ("receipt.print_hint", "Print this page with your browser's Print command. Receipt for entry", "请使用浏览器的打印功能打印本页。凭证对应记录"),
    ("chain.receipt", "Receipt", "凭证"),
    ("photo.hint", "JPEG, PNG or WebP, at most 5 MB. Location and camera details are removed before it is stored; the photo is then public.", "JPEG、PNG 或 WebP，最大 5 MB。存储前会删除位置和相机信息；照片随后公开。"),
    ("photo.uploading", "Uploading…", "正在上传…"),
    ("photo.uploaded", "Uploaded; the entry will carry its SHA-256:", "已上传；记录将包含其 SHA-256："),
    ("photo.alt", "Photo given as evidence", "作为证据的照片"),
    ("photo.checking", "Checking that the photo served is the one the log names…", "正在核对所提供的照片是否与日志所记录的一致…"),
    ("photo.matches", "✓ This photo's SHA-256 matches the log.", "✓ 此照片的 SHA-256 与日志一致。"),
    ("photo.differs", "✗ This photo is not the one the log names.", "✗ 此照片与日志所记录的不一致。"),
    ("photo.unavailable", "The photo could not be checked:", "无法核对照片："),
    ("post.evidence_photo", "Evidence photo (optional)", "证据照片（可选）"),
    ("delivery.photo", "Photo of what arrived (optional)", "到货照片（可选）"),
];

/// (vocabulary, value, English, Chinese).
pub const VALUES: &[(&str, &str, &str, &str)] = &[
    (
        "category",
        "respirator",
        "Respirator (N95/KN95)",
        "医用防护口罩（N95/KN95）",
    ),
    ("category", "surgical_mask", "Surgical mask", "医用外科口罩"),
    ("category", "gown_coverall", "Gown or coverall", "防护服"),
    ("category", "gloves", "Gloves", "手套"),
    ("category", "goggles", "Goggles", "护目镜"),
    ("category", "face_shield", "Face shield", "防护面屏"),
    ("category", "disinfectant", "Disinfectant", "消毒用品"),
    ("category", "thermometer", "Thermometer", "体温计"),
    ("category", "ventilator", "Ventilator", "呼吸机"),
    ("category", "oxygen", "Oxygen", "医用氧气"),
    ("category", "medicine", "Medicine", "药品"),
    ("category", "food", "Food", "食品"),
    ("category", "other", "Other", "其他"),
    ("unit", "piece", "pieces", "个"),
    ("unit", "pair", "pairs", "副"),
    ("unit", "box", "boxes", "盒"),
    ("unit", "carton", "cartons", "箱"),
    ("unit", "bottle", "bottles", "瓶"),
    ("unit", "litre", "litres", "升"),
    ("unit", "kilogram", "kg", "公斤"),
    ("unit", "unit", "units", "台"),
    ("unit", "set", "sets", "套"),
    ("unit", "dose", "doses", "剂"),
    ("unit", "cylinder", "cylinders", "瓶（钢瓶）"),
    ("urgency", "critical", "Critical", "特急"),
    ("urgency", "high", "High", "紧急"),
    ("urgency", "medium", "Medium", "一般"),
    ("urgency", "low", "Low", "不急"),
    ("status", "open", "Open", "进行中"),
    ("status", "met", "Met", "已满足"),
    ("status", "withdrawn", "Withdrawn", "已撤回"),
    ("status", "expired", "Expired", "已过期"),
    ("verification", "verified", "Verified", "已核实"),
    ("verification", "pending", "Not yet verified", "待核实"),
    ("verification", "rejected", "Rejected", "已驳回"),
    ("sort", "relevance", "Relevance", "相关度"),
    ("sort", "urgency", "Urgency", "紧急程度"),
    ("sort", "deadline", "Deadline", "截止日期"),
    ("sort", "recent", "Most recent", "最新"),
    ("org_type", "hospital", "Hospital", "医院"),
    ("org_type", "clinic", "Clinic", "诊所"),
    ("org_type", "shelter", "Shelter", "安置点"),
    ("org_type", "charity", "Charity", "慈善机构"),
    ("org_type", "carrier", "Carrier", "物流公司"),
    ("org_type", "company", "Company", "企业"),
    ("condition", "good", "Good", "完好"),
    ("condition", "damaged", "Damaged", "破损"),
    ("condition", "partial", "Partly received", "部分收到"),
    ("verdict", "verify", "Verified", "核实通过"),
    ("verdict", "reject", "Rejected", "驳回"),
    (
        "verdict",
        "flag_duplicate",
        "Flagged as duplicate",
        "标记为重复",
    ),
    ("verdict", "flag_stale", "Flagged as stale", "标记为过时"),
    ("kind", "org.register", "Organisation", "机构登记"),
    ("kind", "org.verify", "Organisation verdict", "机构核实"),
    ("kind", "org.update", "Organisation update", "机构信息更新"),
    ("kind", "need.post", "Need", "需求"),
    ("kind", "need.update", "Need update", "需求更新"),
    ("kind", "offer.post", "Offer", "捐赠"),
    ("kind", "pledge", "Pledge", "认捐"),
    ("kind", "pledge.accept", "Pledge accepted", "接受认捐"),
    ("kind", "shipment", "Shipment", "发货"),
    ("kind", "delivery.confirm", "Delivery", "收货确认"),
    ("kind", "verdict", "Verdict", "审核结论"),
    ("kind", "role.grant", "Role granted", "授予角色"),
    ("kind", "role.revoke", "Role revoked", "撤销角色"),
    ("kind", "redaction", "Redaction", "隐私数据删除"),
    ("kind", "log.clock", "Log clock", "账本时钟"),
    (
        "stage",
        "pledged",
        "Pledged, not yet accepted",
        "已认捐，待接受",
    ),
    (
        "stage",
        "accepted",
        "Accepted: ready to ship",
        "已接受，可发货",
    ),
    ("stage", "shipped", "Shipped", "已发货"),
    ("stage", "delivered", "Delivered", "已送达"),
    ("stage", "partial", "Partly delivered", "部分送达"),
    ("stage", "damaged", "Delivered damaged", "送达时破损"),
    ("role", "administrator", "Administrator", "管理员"),
    ("role", "moderator", "Moderator", "审核员"),
    ("role", "member", "Member of an organisation", "机构成员"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every `t("…")` and `tr(…, "…")` key in the crate's sources.
    fn used_keys() -> BTreeSet<String> {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut keys = BTreeSet::new();
        let mut dirs = vec![src];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for marker in ["t(\"", "lang, \""] {
                    for (at, _) in text.match_indices(marker) {
                        let rest = &text[at + marker.len()..];
                        let key = &rest[..rest.find('"').unwrap()];
                        if key.contains('.') && !key.contains(' ') {
                            keys.insert(key.to_owned());
                        }
                    }
                }
            }
        }
        keys
    }

    #[test]
    fn every_key_the_pages_use_is_translated() {
        let known: BTreeSet<&str> = STRINGS.iter().map(|(k, _, _)| *k).collect();
        let missing: Vec<String> = used_keys()
            .into_iter()
            .filter(|k| !known.contains(k.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "keys without a translation: {missing:?}"
        );
        assert_eq!(known.len(), STRINGS.len(), "a key is listed twice");
        for (key, en, zh) in STRINGS {
            assert!(
                !en.is_empty() && !zh.is_empty(),
                "{key} is empty in a language"
            );
        }
    }

    #[test]
    fn every_refusal_code_is_explained_in_both_languages() {
        for code in FaultCode::ALL {
            let key = fault_key(code);
            assert!(STRINGS.iter().any(|(k, _, _)| *k == key), "{code:?}");
            let wire = serde_json::to_value(code).unwrap();
            assert_eq!(key, format!("fault.{}", wire.as_str().unwrap()));
        }
    }

    #[test]
    fn every_vocabulary_value_is_translated() {
        let vocabularies: [(&str, Vec<&str>); 8] = [
            (
                "category",
                ledger::body::Category::ALL
                    .iter()
                    .map(|c| c.name())
                    .collect(),
            ),
            ("unit", UNITS.to_vec()),
            ("urgency", URGENCIES.to_vec()),
            ("status", STATUSES.to_vec()),
            ("verification", VERIFICATIONS.to_vec()),
            ("sort", SORTS.to_vec()),
            ("org_type", ORG_TYPES.to_vec()),
            ("condition", CONDITIONS.to_vec()),
        ];
        for (group, values) in vocabularies {
            for v in values {
                assert!(
                    VALUES.iter().any(|(g, val, _, _)| *g == group && *val == v),
                    "{group}.{v} has no label"
                );
            }
        }
        for kind in ledger::Kind::ALL {
            assert_ne!(
                value(Lang::Zh, "kind", kind.name()),
                kind.name(),
                "{kind:?}"
            );
        }
        assert_eq!(
            value(Lang::Zh, "category", "respirator"),
            "医用防护口罩（N95/KN95）"
        );
        assert_eq!(tr(Lang::Zh, "nav.board"), "需求");
    }

    #[test]
    fn the_browsers_preferred_language_decides_a_first_visit() {
        assert_eq!(Lang::preferred("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh);
        assert_eq!(Lang::preferred("en-GB,en;q=0.9,zh;q=0.8"), Lang::En);
        assert_eq!(Lang::preferred("fr-FR,zh-TW;q=0.7,en;q=0.5"), Lang::Zh);
        assert_eq!(Lang::preferred("en;q=0.2,ZH-hans;q=0.8"), Lang::Zh);
        assert_eq!(Lang::preferred("fr, de"), Lang::En);
        assert_eq!(Lang::preferred(""), Lang::En);
    }

    #[test]
    fn vocabularies_match_what_the_log_accepts() {
        for unit in UNITS {
            let item =
                serde_json::json!({"item": "x", "category": "other", "quantity": 1, "unit": unit});
            serde_json::from_value::<ledger::body::Item>(item).unwrap();
        }
    }
}
