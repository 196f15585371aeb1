"""English and Chinese words of the web app's pages, and the language a request asks for.

Metric, lever, field and province names come from :func:`grassroots.report.labels.label` (the report's
own labels), so the app and ``report.html`` say the same thing; this module holds only the words of the
pages themselves.  The language is the ``lang`` cookie (set by the switch at the top of every page), else
the first language of the browser's ``Accept-Language`` header that is English or Chinese, else English.
"""

from __future__ import annotations

LANGS = ("en", "zh")

WORDS: dict[str, tuple[str, str]] = {
    "app_title": ("Grassroots Talent Planner", "基层专业技术人才规划"),
    "nav_scenario": ("Scenario", "情景"),
    "nav_compare": ("Compare", "比较"),
    "nav_budget": ("Budget", "预算"),
    "nav_results": ("Results", "结果"),
    "switch_lang": ("中文", "English"),
    "scenario_intro": ("Pick a bundled scenario, change its levers, check and save it as a TOML file. "
                       "Every parameter shows its unit, allowed range and source.",
                       "选择内置情景，修改政策杠杆，检查并保存为 TOML 文件。每个参数都标明单位、允许范围和来源。"),
    "base_scenario": ("Base scenario", "基础情景"),
    "open": ("Open", "打开"),
    "new_name": ("Name of the new scenario", "新情景名称"),
    "description": ("Description", "说明"),
    "check": ("Check and show changes", "检查并显示改动"),
    "save": ("Save as TOML", "保存为 TOML"),
    "changes": ("Changes against the base", "相对基础情景的改动"),
    "no_changes": ("No change against the base yet.", "尚无改动。"),
    "valid": ("Valid: every check of `grassroots validate` passes.", "有效：通过 `grassroots validate` 的全部检查。"),
    "invalid": ("Not valid: see the messages beside the fields.", "无效：见各字段旁的说明。"),
    "saved_as": ("Saved as", "已保存为"),
    "download": ("Download", "下载"),
    "upload": ("Upload a scenario file (TOML, at most 256 kB)", "上传情景文件（TOML，不超过 256 kB）"),
    "parameter": ("Parameter", "参数"),
    "value": ("Value", "取值"),
    "unit": ("Unit", "单位"),
    "range": ("Allowed", "允许范围"),
    "source": ("Source", "来源"),
    "base_value": ("Base", "基础值"),
    "new_value": ("New", "新值"),
    "compare_intro": ("Simulate scenarios side by side with common random numbers; the table gives the "
                      "paired difference against the first scenario with its 90% interval.",
                      "以共同随机数并行模拟各情景；表中为相对第一个情景的配对差异及其90%区间。"),
    "scenarios": ("Scenarios (the first is the base)", "情景（第一个为基准）"),
    "provinces": ("Provinces (none = the scenario's, else all 31)", "省份（不选 = 情景设定，否则全部31个）"),
    "places_city": ("Prefectures (codes or names, comma-separated)", "地级市（代码或名称，逗号分隔）"),
    "places_county": ("Counties (codes or names, comma-separated)", "县（代码或名称，逗号分隔）"),
    "years": ("Years", "年数"),
    "replications": ("Replications", "重复次数"),
    "seed": ("Seed", "随机种子"),
    "workers": ("Worker processes", "工作进程数"),
    "decompose": ("Decompose the change by lever family (more runs)", "按杠杆类别分解变化（需更多运行）"),
    "run": ("Run", "运行"),
    "cancel": ("Cancel", "取消"),
    "running": ("Running", "运行中"),
    "done": ("Done", "完成"),
    "failed": ("Failed", "失败"),
    "cancelled": ("Cancelled", "已取消"),
    "waiting": ("working ...", "计算中……"),
    "job_survives": ("You may close or reload this page: the run goes on and this address shows it.",
                     "可关闭或刷新本页：运行会继续，此地址可随时查看。"),
    "budget_intro": ("Allocate special posts, programme places, posts and subsidies across counties "
                     "within a yearly budget.", "在年度预算内将特设岗位、项目名额、岗位和补贴分配到各县。"),
    "budget_million": ("Budget (million yuan per year)", "预算（百万元/年）"),
    "objective": ("Objective", "目标"),
    "obj_shortfall": ("smallest weighted shortfall", "加权缺口最小"),
    "obj_equity": ("equity: smallest worst shortfall ratio", "公平：最大缺口比例最小"),
    "obj_cost": ("smallest budget reaching the target", "达到目标的最小预算"),
    "target": ("Coverage target (staff / demand)", "覆盖率目标（在岗/需求）"),
    "fields": ("Fields shown", "显示的领域"),
    "confidence": ("Confidence (optional, with the smallest-budget objective; simulated, 20 replications)",
                   "置信度（可选，用于最小预算目标；模拟20次）"),
    "frontier": ("Also sweep the budget (frontier, 8 budgets from 0 to twice the budget)",
                 "同时扫描预算（前沿，0至两倍预算共8个）"),
    "money_by_year": ("Money by year and by payer (optional)", "分年度与分出资方的资金（可选）"),
    "budget_path": ("Budget path (million yuan per year, comma-separated, one figure per year: years 1..N; "
                    "replaces the yearly budget)",
                    "分年预算（百万元/年，逗号分隔，每年一个数：第1..N年；替代上面的年度预算）"),
    "budget_path_hint": ("e.g. 100, 150, 200: the plan decides each year and the posts it buys persist",
                         "例如 100, 150, 200：逐年决策，所购岗位持续存在"),
    "payer_limits": ("Payer limits (million yuan per year each level may spend; empty: the scenario's)",
                     "出资方上限（各级每年可支出的百万元；留空：按情景设定）"),
    "payer_central": ("Central", "中央"),
    "payer_provincial": ("Provincial", "省级"),
    "payer_county": ("County", "县级"),
    "excel": ("Download the results as Excel (.xlsx)", "下载结果（Excel .xlsx）"),
    "one_more_million": ("One more million yuan a year", "每年多一百万元"),
    "not_binding": ("the budget is not binding: more money buys nothing more at this budget",
                    "预算未形成约束：在此预算下增加资金不再带来改善"),
    "buys": ("lowers the weighted shortfall by {x} weighted persons (shadow price of the budget)",
             "可使加权缺口减少 {x} 加权人（预算的影子价格）"),
    "budget_used": ("{status}: {used} of {budget} a year used; shortfall {before} -> {after} persons",
                    "{status}：每年使用 {used}（预算 {budget}）；缺口 {before} -> {after} 人"),
    "smallest_fund": ("Smallest fund", "最小预算"),
    "per_year": ("a year", "每年"),
    "not_reached": ("target not reached: the largest fund tried", "未达到目标：已尝试的最大预算"),
    "probability_line": ("Probability of reaching coverage {c}: {p} (Wilson 95% interval {i}; required {r}), simulated.",
                         "达到覆盖率 {c} 的概率：{p}（Wilson 95%区间 {i}；要求 {r}），模拟所得。"),
    "allocation_by_county": ("Allocation per county", "各县分配"),
    "county": ("County", "县"),
    "province": ("Province", "省份"),
    "cost": ("Cost (yuan/year)", "费用（元/年）"),
    "total": ("Total", "合计"),
    "results_intro": ("Result folders on disk, newest first; each opens with its report.",
                      "磁盘上的结果文件夹（最新在前），可打开查看报告。"),
    "no_results": ("No result folder yet.", "尚无结果。"),
    "command": ("Command", "命令"),
    "scenario": ("Scenario", "情景"),
    "started": ("Started", "开始时间"),
    "reproduce": ("Reproduce from a terminal", "在终端中复现"),
    "headline": ("Headline: final year, difference against the base", "要点：末年相对基准的差异"),
    "metric": ("Metric", "指标"),
    "difference": ("Difference", "差异"),
    "interval": ("90% interval", "90%区间"),
    "interval_note": ("90% Student-t interval of the mean paired difference over replications.",
                      "重复模拟配对差异均值的90% t区间。"),
    "figures": ("Figures", "图"),
    "decomposition": ("Decomposition by lever family (coverage, final year)", "按杠杆类别分解（覆盖率，末年）"),
    "lever": ("Lever", "杠杆"),
    "contribution": ("Contribution", "贡献"),
    "files": ("Files", "文件"),
    "report": ("Open the report", "打开报告"),
    "map": ("Map", "地图"),
    "not_found": ("Not found.", "未找到。"),
    "budget_yuan": ("Budget (yuan/year)", "预算（元/年）"),
    "coverage_word": ("Coverage (staff / demand)", "覆盖率（在岗/需求）"),
    "weighted_shortfall": ("Weighted shortfall (weighted persons)", "加权缺口（加权人）"),
    "frontier_table": ("Budget frontier", "预算前沿"),
    "status_of_runs": ("Runs", "运行任务"),
    "seconds": ("s", "秒"),
}


def t(key: str, lang: str) -> str:
    """The page word ``key`` in ``lang`` (English for an unknown language; the key itself if unknown)."""
    pair = WORDS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "zh" else pair[0]


def from_accept_language(header: str | None) -> str:
    """'zh' when the browser's first English-or-Chinese language is Chinese, else 'en'.

    ``Accept-Language: zh-CN,zh;q=0.9,en;q=0.8`` -> 'zh'; ``en-US,en;q=0.9`` -> 'en'; q-values are honoured.
    """
    if not header:
        return "en"
    prefs = []
    for i, part in enumerate(header.split(",")):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower()
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        prefs.append((-q, i, tag))
    for _, _, tag in sorted(prefs):
        base = tag.split("-")[0]
        if base in LANGS:
            return base
    return "en"
