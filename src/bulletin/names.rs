//! Chinese names of the published codes (indicators and breakdowns of `indicator_values`), for
//! text the bulletin prints about figures it does not lay out in a table (the revisions note).

/// The name of an indicator code of `indicator_values` (INDICATORS.md), None when unknown.
pub fn indicator(code: &str) -> Option<String> {
    let name = match code {
        "enterprises" => "规上工业企业数",
        "output_ytd" => "工业总产值",
        "output_growth" => "工业总产值增速",
        "va_ytd" => "工业增加值",
        "va_growth" => "工业增加值增速",
        "va_share" => "工业增加值占全市比重",
        "revenue_ytd" => "营业收入",
        "revenue_growth" => "营业收入增速",
        "profit_ytd" => "利润总额",
        "profit_growth" => "利润总额增速",
        "profit_change" => "利润总额增减额",
        "export_ytd" => "出口交货值",
        "export_growth" => "出口交货值增速",
        "employees" => "期末从业人员",
        "chain_masters" => "链主企业数",
        "reported_enterprises" => "县市区报送的规上工业企业数",
        "high_tech_enterprises" => "高新技术企业数",
        "producer_services_revenue" => "生产性服务业营业收入",
        "trade_total" => "外贸进出口总额",
        "trade_export" => "出口总额",
        "trade_import" => "进口总额",
        "appeals_received" => "企业诉求受理数",
        "appeals_resolved" => "企业诉求办结数",
        "appeals_resolution_rate" => "企业诉求解决率",
        "chain_events" => "产业链对接活动",
        "coop_intents" => "达成合作意向",
        "coop_agreements" => "签订合作协议",
        "coop_amount" => "合作金额",
        "young_talents" => "新引进青年人才",
        "tech_problems_solved" => "帮助企业解决技术难题",
        "projects" => "重点项目数",
        "project_investment_total" => "重点项目总投资",
        "project_investment_done_year" => "重点项目本年完成投资",
        "project_investment_done_cumulative" => "重点项目累计完成投资",
        "doubling_current" => "当前值",
        "doubling_base" => "基期值",
        "doubling_target" => "目标值",
        "doubling_progress" => "目标进度",
        "doubling_required_growth" => "规划年均增长",
        "doubling_required_growth_from_now" => "自本期起年均需增长",
        "doubling_growth" => "同比增速",
        _ => {
            // JN102 items publish `<item>_growth` too.
            let item = code.strip_suffix("_growth")?;
            return indicator(item).filter(|_| JN102_ITEMS.contains(&item)).map(|n| format!("{n}增速"));
        }
    };
    Some(name.to_string())
}

const JN102_ITEMS: [&str; 6] = [
    "reported_enterprises",
    "high_tech_enterprises",
    "producer_services_revenue",
    "trade_total",
    "trade_export",
    "trade_import",
];

/// The five doublings (`target:<code>`).
pub fn doubling(code: &str) -> Option<&'static str> {
    Some(match code {
        "industrial_scale" => "工业经济总量",
        "enterprises" => "规上工业企业数量",
        "high_tech_enterprises" => "高新技术企业数量",
        "producer_services_revenue" => "生产性服务业规模",
        "trade_total" => "外贸进出口总额",
        _ => return None,
    })
}

/// GB/T 4754-2017 sections of industry.
pub fn section(code: &str) -> Option<&'static str> {
    Some(match code {
        "B" => "采矿业",
        "C" => "制造业",
        "D" => "电力、热力、燃气及水生产和供应业",
        _ => return None,
    })
}

/// GB/T 4754-2017 divisions 06–46 (the industrial ones).
pub fn division(code: &str) -> Option<&'static str> {
    Some(match code {
        "06" => "煤炭开采和洗选业",
        "07" => "石油和天然气开采业",
        "08" => "黑色金属矿采选业",
        "09" => "有色金属矿采选业",
        "10" => "非金属矿采选业",
        "11" => "开采专业及辅助性活动",
        "12" => "其他采矿业",
        "13" => "农副食品加工业",
        "14" => "食品制造业",
        "15" => "酒、饮料和精制茶制造业",
        "16" => "烟草制品业",
        "17" => "纺织业",
        "18" => "纺织服装、服饰业",
        "19" => "皮革、毛皮、羽毛及其制品和制鞋业",
        "20" => "木材加工和木、竹、藤、棕、草制品业",
        "21" => "家具制造业",
        "22" => "造纸和纸制品业",
        "23" => "印刷和记录媒介复制业",
        "24" => "文教、工美、体育和娱乐用品制造业",
        "25" => "石油、煤炭及其他燃料加工业",
        "26" => "化学原料和化学制品制造业",
        "27" => "医药制造业",
        "28" => "化学纤维制造业",
        "29" => "橡胶和塑料制品业",
        "30" => "非金属矿物制品业",
        "31" => "黑色金属冶炼和压延加工业",
        "32" => "有色金属冶炼和压延加工业",
        "33" => "金属制品业",
        "34" => "通用设备制造业",
        "35" => "专用设备制造业",
        "36" => "汽车制造业",
        "37" => "铁路、船舶、航空航天和其他运输设备制造业",
        "38" => "电气机械和器材制造业",
        "39" => "计算机、通信和其他电子设备制造业",
        "40" => "仪器仪表制造业",
        "41" => "其他制造业",
        "42" => "废弃资源综合利用业",
        "43" => "金属制品、机械和设备修理业",
        "44" => "电力、热力生产和供应业",
        "45" => "燃气生产和供应业",
        "46" => "水的生产和供应业",
        _ => return None,
    })
}

/// The words before an indicator's name for a breakdown: `""` for the total, `制造业`,
/// `工程机械产业链`, `"五个倍增"工业经济总量`, `在建`. `chain` gives a chain's name by its id.
/// None when the breakdown is not a known kind or its code is unknown.
pub fn breakdown(code: &str, chain: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if code == "_T" {
        return Some(String::new());
    }
    let (kind, value) = code.split_once(':')?;
    match kind {
        "section" => section(value).map(str::to_string),
        "division" => division(value).map(str::to_string),
        "chain" if value == "_ALL" => Some("标志性产业链".to_string()),
        "chain" => chain(value),
        "status" => Some(value.to_string()),
        "target" => doubling(value).map(|n| format!("\"五个倍增\"{n}")),
        _ => None,
    }
}
