//! Fixed catalogue of the sample: the 14 reporting units, the 15 chains, the GB/T 4754-2017
//! classes the enterprises are drawn from, name parts, and how each county lays out its workbook.

use super::{MonthStyle, SheetLayout, TotalRow};

/// One reporting unit and the size of its sample population (2025-09).
pub(crate) struct RegionSpec {
    pub code: &'static str,
    pub name: &'static str,
    pub short: &'static str,
    /// Area part of the enterprises' credit codes (太白湖/经开区 land is coded under 任城/嘉祥).
    pub area: &'static str,
    /// Place name used in project names (鱼台县…项目, 济宁高新区…项目).
    pub project_prefix: &'static str,
    /// Place word used in some enterprise names.
    pub name_place: &'static str,
    /// 填报单位 written in the header block.
    pub reporter: &'static str,
    /// Genuine enterprises in 2025-09, all sections, entrants included.
    pub enterprises: usize,
    pub mining: usize,
    pub utilities: usize,
    /// Enterprises that start production during 2025 (上年同期 0).
    pub entrants: usize,
    /// Manufacturing classes the county is known for (drawn five times as often).
    pub specialties: &'static [&'static str],
    pub projects: usize,
}

pub(crate) const REGIONS: [RegionSpec; 14] = [
    RegionSpec {
        code: "370811",
        name: "任城区",
        short: "任城",
        area: "370811",
        project_prefix: "任城区",
        name_place: "任城",
        reporter: "任城区统计局",
        enterprises: 560,
        mining: 10,
        utilities: 14,
        entrants: 4,
        specialties: &["3514", "3444", "1711", "3670", "2614"],
        projects: 14,
    },
    RegionSpec {
        code: "370812",
        name: "兖州区",
        short: "兖州",
        area: "370812",
        project_prefix: "兖州区",
        name_place: "兖州",
        reporter: "兖州区统计局",
        enterprises: 480,
        mining: 15,
        utilities: 10,
        entrants: 3,
        specialties: &["2221", "2223", "2231", "2911", "3911", "3670"],
        projects: 13,
    },
    RegionSpec {
        code: "370826",
        name: "微山县",
        short: "微山",
        area: "370826",
        project_prefix: "微山县",
        name_place: "微山",
        reporter: "微山县统计局",
        enterprises: 230,
        mining: 18,
        utilities: 8,
        entrants: 2,
        specialties: &["2521", "2614", "2619", "1371"],
        projects: 8,
    },
    RegionSpec {
        code: "370827",
        name: "鱼台县",
        short: "鱼台",
        area: "370827",
        project_prefix: "鱼台县",
        name_place: "鱼台",
        reporter: "鱼台县统计局",
        enterprises: 170,
        mining: 4,
        utilities: 5,
        entrants: 2,
        specialties: &["2812", "1311", "1711", "3061"],
        projects: 7,
    },
    RegionSpec {
        code: "370828",
        name: "金乡县",
        short: "金乡",
        area: "370828",
        project_prefix: "金乡县",
        name_place: "金乡",
        reporter: "金乡县统计局",
        enterprises: 260,
        mining: 2,
        utilities: 7,
        entrants: 2,
        specialties: &["1371", "1495", "2231", "1351"],
        projects: 8,
    },
    RegionSpec {
        code: "370829",
        name: "嘉祥县",
        short: "嘉祥",
        area: "370829",
        project_prefix: "嘉祥县",
        name_place: "嘉祥",
        reporter: "嘉祥县统计局",
        enterprises: 300,
        mining: 8,
        utilities: 7,
        entrants: 2,
        specialties: &["3032", "3630", "3660", "2631"],
        projects: 9,
    },
    RegionSpec {
        code: "370830",
        name: "汶上县",
        short: "汶上",
        area: "370830",
        project_prefix: "汶上县",
        name_place: "汶上",
        reporter: "汶上县统计局",
        enterprises: 240,
        mining: 8,
        utilities: 7,
        entrants: 2,
        specialties: &["2661", "2662", "1761", "3130"],
        projects: 8,
    },
    RegionSpec {
        code: "370831",
        name: "泗水县",
        short: "泗水",
        area: "370831",
        project_prefix: "泗水县",
        name_place: "泗水",
        reporter: "泗水县统计局",
        enterprises: 150,
        mining: 6,
        utilities: 5,
        entrants: 1,
        specialties: &["1391", "1331", "3011", "2110"],
        projects: 6,
    },
    RegionSpec {
        code: "370832",
        name: "梁山县",
        short: "梁山",
        area: "370832",
        project_prefix: "梁山县",
        name_place: "梁山",
        reporter: "梁山县统计局",
        enterprises: 280,
        mining: 8,
        utilities: 7,
        entrants: 2,
        specialties: &["3660", "3630", "3232", "3985"],
        projects: 10,
    },
    RegionSpec {
        code: "370881",
        name: "曲阜市",
        short: "曲阜",
        area: "370881",
        project_prefix: "曲阜市",
        name_place: "曲阜",
        reporter: "曲阜市统计局",
        enterprises: 250,
        mining: 4,
        utilities: 7,
        entrants: 2,
        specialties: &["2740", "2720", "2311", "3581"],
        projects: 9,
    },
    RegionSpec {
        code: "370883",
        name: "邹城市",
        short: "邹城",
        area: "370883",
        project_prefix: "邹城市",
        name_place: "邹城",
        reporter: "邹城市统计局",
        enterprises: 520,
        mining: 25,
        utilities: 14,
        entrants: 3,
        specialties: &["2614", "2521", "3216", "3511", "4011"],
        projects: 15,
    },
    RegionSpec {
        code: "370871",
        name: "济宁高新技术产业开发区",
        short: "高新区",
        area: "370871",
        project_prefix: "济宁高新区",
        name_place: "济宁",
        reporter: "济宁高新技术产业开发区统计局",
        enterprises: 300,
        mining: 0,
        utilities: 8,
        entrants: 3,
        specialties: &["3514", "3444", "2710", "2761", "3982", "3841", "3911", "3581"],
        projects: 12,
    },
    RegionSpec {
        code: "JN-TBH",
        name: "济宁太白湖新区",
        short: "太白湖",
        area: "370811",
        project_prefix: "太白湖新区",
        name_place: "济宁",
        reporter: "济宁太白湖新区统计局",
        enterprises: 60,
        mining: 0,
        utilities: 3,
        entrants: 1,
        specialties: &["3911", "3982", "2761", "3976"],
        projects: 5,
    },
    RegionSpec {
        code: "JN-JKQ",
        name: "济宁经济技术开发区",
        short: "经开区",
        area: "370829",
        project_prefix: "济宁经开区",
        name_place: "济宁",
        reporter: "济宁经济技术开发区统计局",
        enterprises: 100,
        mining: 0,
        utilities: 5,
        entrants: 1,
        specialties: &["3670", "3841", "3849", "3825", "2922"],
        projects: 7,
    },
];

/// How each county writes its workbook (index = position in [`REGIONS`]).
pub(crate) fn layout(region_index: usize) -> SheetLayout {
    const JN: [&str; 4] = ["JN101", "JN102", "JN103", "JN104"];
    const BIAO: [&str; 4] = ["表1", "表2", "表3", "表4"];
    const CN: [&str; 4] = ["规上工业", "五个倍增", "营商环境", "重点项目"];
    let base = SheetLayout {
        sheet_names: JN,
        seq_column: false,
        total_row: TotalRow::Bottom,
        total_label_in_first_column: false,
        industry_code_as_number: false,
        planned_start_style: MonthStyle::Dash,
        fullwidth_colons: false,
        zero_export_blank: false,
    };
    match region_index {
        // 任城区: the plain template.
        0 => base,
        // 兖州区: 表1..表4, 序号 column, 合计 in the 序号 column.
        1 => SheetLayout { sheet_names: BIAO, seq_column: true, total_label_in_first_column: true, ..base },
        // 微山县: 合计 just under the headers.
        2 => SheetLayout { total_row: TotalRow::Top, fullwidth_colons: true, ..base },
        // 鱼台县: Chinese sheet names.
        3 => SheetLayout { sheet_names: CN, ..base },
        // 金乡县: industry codes typed as numbers (0610 → 610).
        4 => SheetLayout { industry_code_as_number: true, ..base },
        // 嘉祥县: 计划投产时间 as 2025年12月.
        5 => SheetLayout { planned_start_style: MonthStyle::Chinese, fullwidth_colons: true, ..base },
        // 汶上县: 表1..表4, 序号 column, 合计 at the top (label in the name column).
        6 => SheetLayout { sheet_names: BIAO, seq_column: true, total_row: TotalRow::Top, ..base },
        // 泗水县: industry codes as numbers, 计划投产时间 as real date cells.
        7 => SheetLayout { industry_code_as_number: true, planned_start_style: MonthStyle::DateCell, ..base },
        // 梁山县: 计划投产时间 as 2025.12 (text); zero exports left blank.
        8 => SheetLayout { planned_start_style: MonthStyle::Dotted, zero_export_blank: true, ..base },
        // 曲阜市: 序号 column, 合计 in the name column; zero exports left blank.
        9 => SheetLayout { seq_column: true, zero_export_blank: true, ..base },
        // 邹城市: plain, full-width colons in the header block.
        10 => SheetLayout { fullwidth_colons: true, ..base },
        // 高新区: 合计 written in the credit-code column.
        11 => SheetLayout { total_label_in_first_column: true, ..base },
        // 太白湖新区: Chinese sheet names.
        12 => SheetLayout { sheet_names: CN, ..base },
        // 经开区: no 合计 row at all.
        _ => SheetLayout { total_row: TotalRow::None, ..base },
    }
}

/// One of the 15 标志性产业链.
pub(crate) struct ChainSpec {
    pub id: &'static str,
    pub name: &'static str,
    pub cluster: &'static str,
    /// How many distinct 链主 the chain gets (Σ = 85).
    pub masters: usize,
    /// Project name stems for JN104.
    pub stems: &'static [&'static str],
}

pub(crate) const CHAINS: [ChainSpec; 15] = [
    ChainSpec {
        id: "C01",
        name: "工程机械产业链",
        cluster: "高端装备",
        masters: 7,
        stems: &["工程机械智能制造产业园", "高端液压件智能制造", "挖掘机关键零部件"],
    },
    ChainSpec {
        id: "C02",
        name: "专用装备产业链",
        cluster: "高端装备",
        masters: 6,
        stems: &["智慧矿山装备产业园", "煤矿智能综采装备", "隧道掘进装备制造"],
    },
    ChainSpec {
        id: "C03",
        name: "汽车及零部件产业链",
        cluster: "高端装备",
        masters: 6,
        stems: &["新能源汽车零部件", "专用汽车及挂车智能制造", "汽车轻量化部件"],
    },
    ChainSpec {
        id: "C04",
        name: "智能农机装备产业链",
        cluster: "高端装备",
        masters: 5,
        stems: &["智能农机装备", "大马力拖拉机生产线"],
    },
    ChainSpec {
        id: "C05",
        name: "煤化工产业链",
        cluster: "高端化工",
        masters: 6,
        stems: &["焦炉煤气综合利用", "煤基新材料"],
    },
    ChainSpec {
        id: "C06",
        name: "精细化工产业链",
        cluster: "高端化工",
        masters: 6,
        stems: &["电子级化学品", "高端精细化学品", "新型环保涂料"],
    },
    ChainSpec {
        id: "C07",
        name: "生物医药产业链",
        cluster: "医养健康",
        masters: 6,
        stems: &["生物医药产业园", "创新药制剂生产线", "中药提取及制剂"],
    },
    ChainSpec {
        id: "C08",
        name: "医疗器械产业链",
        cluster: "医养健康",
        masters: 5,
        stems: &["高端医疗器械产业园", "医用影像设备"],
    },
    ChainSpec {
        id: "C09",
        name: "纺织服装产业链",
        cluster: "纺织服装",
        masters: 6,
        stems: &["高档纺织面料", "智能化纺纱", "功能性服装"],
    },
    ChainSpec {
        id: "C10",
        name: "化纤及复合材料产业链",
        cluster: "新材料",
        masters: 6,
        stems: &["高性能纤维新材料", "玻璃纤维复合材料", "差别化纤维"],
    },
    ChainSpec {
        id: "C11",
        name: "稀土功能材料产业链",
        cluster: "新材料",
        masters: 5,
        stems: &["稀土永磁材料", "稀土金属深加工"],
    },
    ChainSpec {
        id: "C12",
        name: "造纸及绿色包装产业链",
        cluster: "新材料",
        masters: 6,
        stems: &["高档特种纸", "绿色包装新材料"],
    },
    ChainSpec {
        id: "C13",
        name: "电子信息产业链",
        cluster: "新一代信息技术",
        masters: 5,
        stems: &["服务器整机制造", "高端印制电路板", "光电子器件"],
    },
    ChainSpec {
        id: "C14",
        name: "新能源电池及储能产业链",
        cluster: "新能源",
        masters: 5,
        stems: &["锂电池储能系统", "动力电池配套材料"],
    },
    ChainSpec {
        id: "C15",
        name: "光伏及风电装备产业链",
        cluster: "新能源",
        masters: 5,
        stems: &["光伏组件制造", "风电装备"],
    },
];

/// Which section a class is in (GB/T 4754-2017 divisions 06–12 B, 13–43 C, 44–46 D).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    B,
    C,
    D,
}

pub(crate) fn section_of(code: &str) -> Section {
    match code[..2].parse::<u32>().unwrap_or(0) {
        6..=12 => Section::B,
        13..=43 => Section::C,
        _ => Section::D,
    }
}

/// A GB/T 4754-2017 class the sample draws from.
pub(crate) struct Industry {
    pub code: &'static str,
    pub weight: f64,
    /// Chains (indices into [`CHAINS`]) whose core this class is.
    pub chains: &'static [usize],
    /// Chains the class supplies (members with a lower probability).
    pub supplies: &'static [usize],
    /// Business words for enterprise names.
    pub biz: &'static [&'static str],
}

const fn ind(code: &'static str, weight: f64, biz: &'static [&'static str]) -> Industry {
    Industry { code, weight, chains: &[], supplies: &[], biz }
}
const fn chain(code: &'static str, weight: f64, chains: &'static [usize], biz: &'static [&'static str]) -> Industry {
    Industry { code, weight, chains, supplies: &[], biz }
}
const fn supplier(
    code: &'static str,
    weight: f64,
    supplies: &'static [usize],
    biz: &'static [&'static str],
) -> Industry {
    Industry { code, weight, chains: &[], supplies, biz }
}

pub(crate) const MINING: &[Industry] = &[
    ind("0610", 6.0, &["煤业", "矿业", "能源"]),
    ind("0620", 0.5, &["矿业"]),
    ind("0810", 0.6, &["矿业", "铁矿"]),
    ind("1011", 1.2, &["石灰石", "矿业"]),
    ind("1019", 1.5, &["砂石", "建材矿业"]),
];

pub(crate) const UTILITIES: &[Industry] = &[
    ind("4411", 1.2, &["发电", "电力"]),
    ind("4412", 2.0, &["热电", "能源"]),
    ind("4415", 0.8, &["风力发电", "风电"]),
    ind("4416", 1.2, &["光伏发电", "新能源"]),
    ind("4430", 1.5, &["热力", "供热"]),
    ind("4511", 1.2, &["燃气", "天然气"]),
    ind("4610", 1.2, &["水务", "供水"]),
    ind("4620", 1.0, &["环保", "水处理"]),
];

pub(crate) const MANUFACTURING: &[Industry] = &[
    ind("1311", 1.0, &["米业", "粮油"]),
    ind("1312", 1.2, &["面业", "面粉"]),
    ind("1331", 1.0, &["油脂", "粮油"]),
    ind("1351", 1.0, &["食品", "肉食品"]),
    ind("1371", 1.5, &["蒜业", "蔬菜食品", "食品"]),
    ind("1391", 0.8, &["淀粉", "生物科技"]),
    ind("1495", 0.8, &["生物科技", "食品科技"]),
    ind("1512", 0.5, &["酒业"]),
    chain("1711", 1.8, &[8], &["纺织", "棉纺"]),
    chain("1713", 0.8, &[8], &["印染"]),
    chain("1761", 0.8, &[8], &["针织"]),
    chain("1819", 1.2, &[8], &["服饰", "服装"]),
    ind("2110", 1.0, &["家具", "木业"]),
    chain("2221", 0.8, &[11], &["纸业", "浆纸"]),
    chain("2223", 0.6, &[11], &["特种纸业", "纸业"]),
    chain("2231", 1.0, &[11], &["包装", "纸制品"]),
    ind("2311", 0.8, &["印务", "印刷"]),
    ind("2511", 0.3, &["石化", "石油化工"]),
    chain("2521", 0.6, &[4], &["焦化", "煤化"]),
    chain("2614", 1.2, &[4], &["化工", "化学"]),
    chain("2619", 0.8, &[4], &["化学", "化工"]),
    chain("2631", 0.6, &[5], &["农药", "作物科学"]),
    chain("2641", 0.6, &[5], &["涂料", "新材料"]),
    chain("2661", 1.0, &[5], &["化学助剂", "精细化工"]),
    chain("2662", 0.6, &[5], &["化学品", "精细化工"]),
    chain("2710", 0.7, &[6], &["药业", "制药"]),
    chain("2720", 0.7, &[6], &["制药", "药业"]),
    chain("2740", 0.6, &[6], &["中药", "药业"]),
    chain("2761", 0.6, &[6], &["生物制药", "生物技术"]),
    chain("2812", 0.4, &[9, 8], &["纤维", "新材料"]),
    chain("2822", 0.4, &[9], &["化纤"]),
    ind("2911", 0.6, &["轮胎", "橡胶"]),
    ind("2922", 1.2, &["塑业", "塑胶"]),
    ind("3011", 0.6, &["水泥"]),
    ind("3021", 1.0, &["建材", "管桩"]),
    ind("3031", 0.8, &["新型建材", "墙材"]),
    ind("3032", 0.8, &["石材", "石业"]),
    chain("3061", 0.4, &[9], &["玻纤", "复合材料"]),
    ind("3130", 0.8, &["钢材", "钢铁"]),
    ind("3216", 0.4, &["铝业"]),
    chain("3232", 0.3, &[10], &["稀土", "稀土材料"]),
    supplier("3311", 1.5, &[0, 1], &["钢结构", "重工"]),
    supplier("3340", 1.0, &[2], &["金属制品", "线材"]),
    supplier("3360", 0.6, &[2], &["表面处理", "热处理"]),
    supplier("3412", 0.8, &[2, 3], &["动力", "发动机配件"]),
    chain("3444", 1.0, &[0], &["液压", "液压科技"]),
    supplier("3451", 0.8, &[0, 3], &["轴承"]),
    supplier("3453", 0.8, &[0, 3], &["齿轮", "传动"]),
    chain("3511", 1.2, &[1], &["矿山装备", "矿用设备"]),
    chain("3514", 1.0, &[0], &["工程机械", "重工"]),
    chain("3515", 0.5, &[1], &["建材机械"]),
    chain("3516", 0.4, &[1], &["冶金设备"]),
    chain("3517", 0.4, &[1], &["隧道装备"]),
    supplier("3525", 0.6, &[2], &["模具"]),
    chain("3571", 0.5, &[3], &["拖拉机", "农业装备"]),
    chain("3572", 1.0, &[3], &["农业机械", "农机"]),
    chain("3581", 0.5, &[7], &["医疗设备", "医疗科技"]),
    chain("3584", 0.5, &[7], &["医疗器械"]),
    ind("3599", 1.2, &["专用设备", "智能装备"]),
    chain("3612", 0.2, &[2], &["新能源汽车"]),
    chain("3630", 0.7, &[2], &["专用汽车", "改装车"]),
    chain("3660", 0.9, &[2], &["挂车", "车辆"]),
    chain("3670", 2.0, &[2], &["汽车零部件", "汽车部件"]),
    chain("3811", 0.4, &[14], &["电机", "发电设备"]),
    chain("3824", 0.4, &[13], &["电力电子"]),
    chain("3825", 0.4, &[14], &["光伏科技", "光能"]),
    ind("3831", 0.8, &["电缆", "线缆"]),
    chain("3841", 0.4, &[13], &["锂电", "新能源科技"]),
    chain("3849", 0.3, &[13], &["储能科技", "电池"]),
    chain("3911", 0.3, &[12], &["信息技术", "计算机"]),
    chain("3976", 0.3, &[12], &["光电"]),
    chain("3982", 0.4, &[12], &["电子", "电路"]),
    chain("3985", 0.3, &[10, 12], &["电子材料", "磁材"]),
    ind("4011", 0.5, &["自动化", "智能控制"]),
    ind("4190", 0.6, &["工艺品", "制品"]),
    ind("4210", 0.6, &["再生资源"]),
    ind("4320", 0.5, &["设备维修", "机械维修"]),
];

/// Two-character brand words for enterprise names (fictional combinations).
pub(crate) const BRANDS: &[&str] = &[
    "华泰", "恒信", "金宇", "鸿达", "宏源", "瑞丰", "东方", "新元", "泰和", "宏昌", "力博", "中科", "圣源", "鲁泰",
    "齐鲁", "运河", "孔孟", "尼山", "九州", "汇丰", "同创", "德信", "永盛", "金桥", "博远", "天成", "瑞康", "海川",
    "华冠", "润德", "广源", "鑫海", "鼎盛", "佳和", "盛隆", "恒泰", "凯瑞", "正和", "兴业", "华宇", "通达", "新华",
    "明珠", "金源", "天元", "昊源", "隆昌", "聚源", "宏宇", "亿丰", "嘉禾", "锦程", "振华", "富源", "华威", "创新",
    "中信", "永泰", "华鲁", "圣达", "恒昌", "腾飞", "祥瑞", "安泰", "长青", "宏图", "国泰", "银河", "泰丰", "万通",
    "荣昌", "信达", "华星", "远航", "正泰", "立信", "金鼎", "百川", "汇通", "三友", "四海", "金丰", "鑫源", "泓泰",
    "北辰", "中兴", "开元", "盛世", "博瑞", "康达", "利民", "丰源", "鲁南", "微湖", "南阳", "蓼河", "洸府", "泗河",
    "峄山", "凫山", "汶河", "梁泊", "羊山", "鸿福", "金麟", "华晟", "晟达", "卓越", "高远", "鲲鹏", "天瑞", "金诺",
];

/// Person names for the signature row.
pub(crate) const PEOPLE: &[&str] = &[
    "王建国",
    "李敏",
    "张伟",
    "刘洋",
    "陈静",
    "杨帆",
    "赵磊",
    "孙丽",
    "周强",
    "吴霞",
    "郑涛",
    "冯娟",
    "孔祥云",
    "颜廷华",
    "曾凡东",
    "孟庆华",
    "朱红",
    "马骏",
    "胡斌",
    "郭芳",
    "何明",
    "高峰",
    "林琳",
    "罗刚",
    "梁燕",
    "宋杰",
    "谢婷",
    "韩冰",
];
