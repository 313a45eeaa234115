//! Chinese names of the places ISO 3166 names only in English or pinyin: China and
//! the regions it writes its own name for (ISO 3166-1 `CN`, `HK`, `MO`, `TW`), and
//! China's provinces, municipalities, autonomous regions and special administrative
//! regions (ISO 3166-2 `CN-*`, which ISO romanises: `Hubei Sheng`).
//!
//! Curated by hand from the official names of these divisions, which are stable: when
//! ISO adds or renames a `CN-` code, `every_chinese_subdivision_has_a_chinese_name`
//! fails until this table follows. Each name is the full official one; the short form
//! (`湖北` for `湖北省`) is matched by stripping the suffix (`SUFFIXES` in the crate root).

/// `(ISO 3166 code, Chinese name)`.
pub const NAMES: &[(&str, &str)] = &[
    ("CN", "中国"),
    ("HK", "香港"),
    ("MO", "澳门"),
    ("TW", "台湾"),
    ("CN-AH", "安徽省"),
    ("CN-BJ", "北京市"),
    ("CN-CQ", "重庆市"),
    ("CN-FJ", "福建省"),
    ("CN-GD", "广东省"),
    ("CN-GS", "甘肃省"),
    ("CN-GX", "广西壮族自治区"),
    ("CN-GZ", "贵州省"),
    ("CN-HA", "河南省"),
    ("CN-HB", "湖北省"),
    ("CN-HE", "河北省"),
    ("CN-HI", "海南省"),
    ("CN-HK", "香港特别行政区"),
    ("CN-HL", "黑龙江省"),
    ("CN-HN", "湖南省"),
    ("CN-JL", "吉林省"),
    ("CN-JS", "江苏省"),
    ("CN-JX", "江西省"),
    ("CN-LN", "辽宁省"),
    ("CN-MO", "澳门特别行政区"),
    ("CN-NM", "内蒙古自治区"),
    ("CN-NX", "宁夏回族自治区"),
    ("CN-QH", "青海省"),
    ("CN-SC", "四川省"),
    ("CN-SD", "山东省"),
    ("CN-SH", "上海市"),
    ("CN-SN", "陕西省"),
    ("CN-SX", "山西省"),
    ("CN-TJ", "天津市"),
    ("CN-TW", "台湾省"),
    ("CN-XJ", "新疆维吾尔自治区"),
    ("CN-XZ", "西藏自治区"),
    ("CN-YN", "云南省"),
    ("CN-ZJ", "浙江省"),
];
