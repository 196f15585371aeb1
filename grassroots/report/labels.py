"""English and Chinese labels, number formats, and the CJK font check for figures.

Every word a figure or the report shows goes through :func:`label` (metrics,
lever families, optimizer levers, fields, tiers, regions, payers, programmes,
column headings, section titles), so ``--lang zh|en`` switches all of them::

    label("coverage", "en")   # 'Coverage (staff / demand)'
    label("coverage", "zh")   # '覆盖率（在岗/需求）'
    label("62", "zh")         # '甘肃'  (GB/T 2260 province codes)

An unknown key is shown as itself, tidied (``special_teachers`` -> ``Special
teachers``), never as an error: a new metric from an engine still plots.

Chinese figure text needs a font with CJK glyphs.  :func:`cjk_font` looks for
one among the fonts matplotlib knows (names such as Noto Sans CJK, Source Han,
WenQuanYi, SimHei, Microsoft YaHei, PingFang, then any font), and checks that it
really has glyphs for ``覆盖率``.  A font file outside the system folders can be
named with the environment variable ``GRASSROOTS_CJK_FONT``.  When none is
found, :meth:`Labels.for_figures` falls back to English labels and a single
:class:`CJKFontWarning` is issued; the report shows a visible note instead of
tofu boxes.  The package never depends on a system font.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Mapping

log = logging.getLogger(__name__)

LANGS = ("en", "zh")
CJK_PROBE = "覆盖率"

# key -> (English, Chinese)
LABELS: dict[str, tuple[str, str]] = {
    # --- metrics (summary.csv / counties.csv)
    "staff": ("Staff in post", "在岗人数"),
    "demand": ("Demand (posts needed)", "需求岗位数"),
    "coverage": ("Coverage (staff / demand)", "覆盖率（在岗/需求）"),
    "vacancies": ("Vacancies", "空缺岗位"),
    "recruits": ("Recruits", "新招聘人数"),
    "exits": ("Exits", "流失人数"),
    "turnover_rate": ("Turnover rate", "流失率"),
    "senior_share": ("Senior-title share", "高级职称占比"),
    "intermediate_share": ("Intermediate-title share", "中级职称占比"),
    "mean_skill": ("Mean skill (z-score)", "平均能力（标准分）"),
    "cost_yuan": ("Cost (yuan/year)", "成本（元/年）"),
    "coverage_gini": ("Equity: coverage Gini (lower is fairer)", "公平性：覆盖率基尼系数（越低越均衡）"),
    "share_counties_below_80pct": ("Counties below 80% coverage", "覆盖率低于80%的县占比"),
    "shortfall": ("Shortfall (posts)", "缺口（岗位）"),
    "weighted_shortfall": ("Weighted shortfall", "加权缺口"),
    "marginal_value_per_yuan": ("Marginal value per yuan", "每元边际效益"),
    "probability": ("Probability of reaching the target", "达标概率"),
    "budget_yuan": ("Budget (yuan/year)", "预算（元/年）"),
    "budget_used_yuan": ("Budget used (yuan/year)", "已用预算（元/年）"),
    "coverage_with_flexible": ("Coverage incl. flexible inflows", "覆盖率（含柔性引进）"),
    "vacancy_rate": ("Vacancy rate", "空缺率"),
    "exit_rate": ("Exit rate", "离职率"),
    "senior_post_share": ("Senior-post share", "高级岗位占比"),
    "fill_rate": ("Recruitment fill rate", "招聘完成率"),
    "mean_recruit_skill": ("Mean recruit skill (z-score)", "新招聘人员平均能力（标准分）"),
    "mean_income_yuan_month": ("Mean income (yuan/month)", "平均收入（元/月）"),
    "cost_per_staff_yuan": ("Cost per staff member (yuan/year)", "人均成本（元/年）"),
    "authorized_posts": ("Authorized posts (bianzhi)", "编制岗位数"),
    "special_posts_filled": ("Special posts filled", "特设岗位在岗人数"),
    "directed_posts": ("Directed senior posts", "定向高级岗位"),
    "senior_titles": ("Senior titles", "高级职称人数"),
    "intermediate_titles": ("Intermediate titles", "中级职称人数"),
    "obligated_staff": ("Staff under a service obligation", "服务期内人员"),
    "township_staff": ("Township staff", "乡镇在岗人数"),
    "cost_incentives_yuan": ("Cost of incentives (yuan/year)", "激励成本（元/年）"),
    "cost_base_pay_yuan": ("Base pay (yuan/year)", "基本工资（元/年）"),
    "cost_performance_pay_yuan": ("Performance pay (yuan/year)", "绩效工资（元/年）"),
    "cost_hardship_allowance_yuan": ("Hardship allowance (yuan/year)", "艰苦边远地区津贴（元/年）"),
    "cost_township_subsidy_yuan": ("Township work subsidy (yuan/year)", "乡镇工作补贴（元/年）"),
    "cost_programme_subsidy_yuan": ("Programme subsidies (yuan/year)", "服务期项目补助（元/年）"),
    "cost_training_yuan": ("Training (yuan/year)", "培训（元/年）"),
    "cost_flexible_yuan": ("Flexible inflows (yuan/year)", "柔性引进（元/年）"),
    "staff_gain": ("Staff gained", "增加在岗人数"),
    "programme_staff": ("Staff on service-term programmes", "服务期项目在岗人数"),
    "special_post_staff": ("Staff in special posts", "特设岗位在岗人数"),
    "directed_senior": ("Directed senior titles", "定向高级职称"),
    "flexible_fte": ("Flexible inflows (FTE)", "柔性引进（全时当量）"),
    "training_hours": ("Training hours per person", "人均培训学时"),
    # --- lever families (scenario sections, Shapley decomposition)
    "titles": ("Title evaluation", "职称评审倾斜"),
    "posts": ("Post structure", "岗位结构比例"),
    "recruitment": ("Public recruitment", "公开招聘"),
    "pay": ("Pay and subsidies", "薪酬与补贴"),
    "programmes": ("Service-term programmes", "服务期项目"),
    "training": ("Continuing education", "继续教育"),
    "flexible": ("Flexible inflows", "柔性流动"),
    "other": ("Other settings", "其他设置"),
    "total": ("Total", "合计"),
    "residual": ("Residual (not attributed)", "残差（未分解）"),
    "base": ("Base", "基准"),
    # --- optimizer levers (allocation.csv)
    "special_posts": ("Special posts", "特设岗位"),
    "special_post": ("Special posts", "特设岗位"),
    "senior_post": ("Extra senior posts", "增设高级岗位"),
    "intermediate_post": ("Extra intermediate posts", "增设中级岗位"),
    "directed_senior_post": ("Directed senior posts", "定向高级岗位"),
    "programme_places": ("Programme places", "服务期项目名额"),
    "senior_posts": ("Extra senior posts", "增设高级岗位"),
    "intermediate_posts": ("Extra intermediate posts", "增设中级岗位"),
    "directed_senior_posts": ("Directed senior posts", "定向高级岗位"),
    "township_subsidy": ("Township work subsidy", "乡镇工作补贴"),
    "hardship_topup": ("Hardship allowance top-up", "艰苦边远地区津贴提标"),
    "hardship_allowance": ("Hardship-area allowance", "艰苦边远地区津贴"),
    "subsidy": ("Subsidy", "补贴"),
    # --- fields
    "science": ("Science", "科技"),
    "education": ("Education", "教育"),
    "engineering": ("Engineering", "工程"),
    "agriculture": ("Agriculture", "农业"),
    "health": ("Health", "卫生"),
    "all": ("All fields", "全部领域"),
    # --- tiers, regions, payers
    "county": ("County level", "县级"),
    "township": ("Township level", "乡镇级"),
    "east": ("East", "东部"),
    "central": ("Central", "中部"),
    "west": ("West", "西部"),
    "provincial": ("Provincial", "省级"),
    # --- service-term programmes
    "special_post_teachers": ("Special-post teachers (Tegang)", "特岗教师"),
    "agri_extension_posts": ("Agri-extension special posts", "农技推广特岗"),
    "gp_special_posts": ("GP special posts", "全科医生特岗"),
    "free_normal_students": ("Free normal students", "公费师范生"),
    "free_medical_students": ("Free medical students", "免费医学生"),
    "sanzhi_yifu": ("Sanzhi Yifu (three supports, one aid)", "三支一扶"),
    "tuition_compensation": ("Tuition compensation", "学费补偿与贷款代偿"),
    # --- column headings
    "scenario": ("Scenario", "情景"),
    "description": ("Description", "说明"),
    "year": ("Year", "年份"),
    "metric": ("Metric", "指标"),
    "mean": ("Mean", "均值"),
    "p05": ("5th percentile", "5%分位"),
    "p95": ("95th percentile", "95%分位"),
    "interval": ("90% interval", "90%区间"),
    "mean_diff": ("Difference from base", "与基准之差"),
    "lever": ("Lever", "政策杠杆"),
    "contribution": ("Contribution", "贡献"),
    "county_id": ("County", "县"),
    "province": ("Province", "省份"),
    "field": ("Field", "领域"),
    "quantity": ("Quantity", "数量"),
    "param": ("Parameter", "参数"),
    "index": ("Index", "指数"),
    "value": ("Value", "数值"),
    "conf": ("Confidence half-width", "置信区间半宽"),
    "mu_star": ("μ* (mean |elementary effect|)", "μ*（基本效应绝对值均值）"),
    "sigma": ("σ (interaction / nonlinearity)", "σ（交互/非线性）"),
    "mu": ("μ (mean elementary effect)", "μ（基本效应均值）"),
    "S1": ("First-order index S1", "一阶指数 S1"),
    "ST": ("Total-order index ST", "总效应指数 ST"),
    "S2": ("Second-order index S2", "二阶指数 S2"),
    "status": ("Solution status", "求解状态"),
    "objective": ("Objective value", "目标函数值"),
    "solver": ("Solver", "求解器"),
    "solve_seconds": ("Solve time (s)", "求解时间（秒）"),
    "shadow_prices": ("Shadow prices", "影子价格"),
    "shadow_price_budget": ("Shadow price of the budget", "预算影子价格"),
    "budget_used_by_payer_yuan": ("Budget used by payer", "各级财政已用预算"),
    "payer_budget_yuan": ("Budget by payer", "各级财政预算"),
    "weighted_shortfall_at_min_max_ratio": ("Weighted shortfall at the smallest largest shortfall ratio",
                                            "最大缺口率最小时的加权缺口"),
    "integer": ("Integer model", "整数模型"),
    "mip_gap": ("MIP gap", "整数规划间隙"),
    "build_seconds": ("Build time (s)", "建模时间（秒）"),
    "p_low": ("Lower bound", "下限"),
    "p_high": ("Upper bound", "上限"),
    "county_rank": ("Counties, sorted by value", "县（按数值排序）"),
    "difference": ("Difference from base", "与基准之差"),
    "improved": ("improved", "改善"),
    "worsened": ("worsened", "恶化"),
    "unchanged": ("unchanged", "不变"),
    "counties": ("Counties", "县数"),
    "pairs": ("County × field pairs", "县×领域组合数"),
    "central_gov": ("Central government", "中央财政"),
    "provincial_gov": ("Provincial government", "省级财政"),
    "county_gov": ("County government", "县级财政"),
    "target": ("Target", "目标"),
    # --- report sections and run information
    "report_title": ("Grassroots Talent Planner — results", "基层专业技术人才规划工具 — 结果报告"),
    "contents": ("Contents", "目录"),
    "run_info": ("What was run", "运行信息"),
    "headline": ("Headline results", "主要结果"),
    "comparison": ("Comparison with the base scenario", "与基准情景比较"),
    "trajectories": ("Trajectories", "年度走势"),
    "county_distribution": ("County distribution", "县域分布"),
    "county_differences": ("County differences from the base", "各县与基准之差"),
    "decomposition": ("Which lever did it: decomposition", "政策杠杆贡献分解"),
    "optimizer": ("Allocation", "资源配置"),
    "allocation_by_province": ("Allocation by province and lever", "按省份和杠杆的配置"),
    "frontier": ("Budget frontier", "预算前沿"),
    "sensitivity": ("Sensitivity", "敏感性分析"),
    "budget_probability": ("Budget and probability of reaching the target", "预算与达标概率"),
    "notes": ("Notes", "说明"),
    "command": ("Command", "命令"),
    "reproduce": ("Command to reproduce", "复现命令"),
    "scenarios": ("Scenarios", "情景"),
    "sha256": ("Scenario sha256", "情景 sha256"),
    "seed": ("Master seed", "主随机种子"),
    "replication_seeds": ("Replication seeds", "重复实验种子"),
    "replications": ("Replications", "重复次数"),
    "years": ("Years", "年数"),
    "provinces": ("Provinces", "省份"),
    "version": ("Package version", "软件版本"),
    "python": ("Python", "Python"),
    "started": ("Started", "开始时间"),
    "finished": ("Finished", "结束时间"),
    "generated": ("Generated", "生成时间"),
    "settings": ("Other settings", "其他设置"),
    "files": ("Files", "文件"),
}

#: how each metric's values are shown: share (percent), count, yuan, index, score
METRIC_KIND: dict[str, str] = {
    "coverage": "share", "turnover_rate": "share", "senior_share": "share",
    "intermediate_share": "share", "share_counties_below_80pct": "share", "probability": "share",
    "p_low": "share", "p_high": "share", "share": "share", "below": "share",
    "staff": "count", "demand": "count", "vacancies": "count", "recruits": "count", "exits": "count",
    "shortfall": "count", "weighted_shortfall": "count", "programme_staff": "count",
    "special_post_staff": "count", "directed_senior": "count", "flexible_fte": "count", "quantity": "count",
    "cost_yuan": "yuan", "budget_yuan": "yuan", "budget_used_yuan": "yuan",
    "coverage_gini": "index", "mean_skill": "score", "marginal_value_per_yuan": "rate",
    "training_hours": "count", "coverage_with_flexible": "share", "vacancy_rate": "share", "exit_rate": "share",
    "senior_post_share": "share", "fill_rate": "share", "mean_recruit_skill": "score",
    "mean_income_yuan_month": "yuan", "authorized_posts": "count", "special_posts": "count",
    "special_posts_filled": "count", "directed_posts": "count", "senior_titles": "count",
    "intermediate_titles": "count", "obligated_staff": "count", "township_staff": "count", "staff_gain": "count",
    "programme_places": "count", "max_shortfall_ratio": "share",
}

#: canonical order of lever families in tables and charts
LEVER_ORDER = ("titles", "posts", "recruitment", "pay", "programmes", "training", "flexible", "other")

_PROVINCES_ZH_SHORT = {
    # short Chinese names as used in statistical tables
    "11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古", "21": "辽宁", "22": "吉林",
    "23": "黑龙江", "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西",
    "37": "山东", "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
    "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏", "61": "陕西", "62": "甘肃",
    "63": "青海", "64": "宁夏", "65": "新疆",
}


@functools.lru_cache(maxsize=1)
def _province_names_en() -> dict[str, str]:
    try:  # the bundled table is the single home of province names
        from scenarios import province_table
        t = province_table()
        return {str(c).zfill(2): str(n) for c, n in zip(t["code"], t["province"])}
    except Exception:  # noqa: BLE001 - labels must work without the data package
        return {}


def _tidy(key: str) -> str:
    if "." in key or "=" in key:  # a scenario key path such as behaviour.exit_intercept: shown as is
        return key
    text = re.sub(r"[_\s]+", " ", str(key)).strip()
    return text[:1].upper() + text[1:] if text else text


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang: {lang!r} is not a language (allowed: {', '.join(LANGS)})")
    return lang


def label(key, lang: str = "en") -> str:
    """The label of ``key`` in ``lang`` (``en`` or ``zh``); unknown keys come back tidied."""
    check_lang(lang)
    k = str(key)
    if k in LABELS:
        return LABELS[k][0 if lang == "en" else 1]
    if k.startswith("place_") and k[6:] in LABELS:  # optimizer lever: places on a programme
        return ("名额：" if lang == "zh" else "Places: ") + LABELS[k[6:]][0 if lang == "en" else 1]
    code = k.zfill(2) if k.isdigit() and len(k) <= 2 else None
    if code is not None and (code in _PROVINCES_ZH_SHORT):
        if lang == "zh":
            return _PROVINCES_ZH_SHORT[code]
        return _province_names_en().get(code, code)
    return _tidy(k)


def metric_kind(metric: str) -> str:
    m = str(metric)
    if m in METRIC_KIND:
        return METRIC_KIND[m]
    if m.endswith("_yuan"):
        return "yuan"
    if m.endswith(("_share", "_rate")) or m.startswith("share_"):
        return "share"
    return "number"


# ----------------------------------------------------------------------------- number formats

def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_number(x, digits: int | None = None) -> str:
    """A plain number for people: thousands separators, sensible decimals."""
    if not _finite(x):
        return "–"
    x = float(x) + 0.0  # no "-0"
    if digits is not None:
        return f"{x:,.{digits}f}"
    if x.is_integer():
        return f"{x:,.0f}"
    a = abs(x)
    if a >= 100 or a == 0:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:,.1f}"
    if a >= 0.01:
        return f"{x:,.2f}"
    return f"{x:.3g}"


def fmt_yuan(x, lang: str = "en", signed: bool = False) -> str:
    """Yuan in 亿元/万元 (zh) or billion/million (en)."""
    if not _finite(x):
        return "–"
    x = float(x)
    sign = "+" if signed and x > 0 else ("−" if x < 0 else "")
    a = abs(x)
    if lang == "zh":
        if a >= 1e8:
            return f"{sign}{a / 1e8:,.2f}亿元"
        if a >= 1e4:
            return f"{sign}{a / 1e4:,.1f}万元" if a < 1e6 else f"{sign}{a / 1e4:,.0f}万元"
        return f"{sign}{a:,.0f}元"
    if a >= 1e9:
        return f"{sign}¥{a / 1e9:,.2f} billion"
    if a >= 1e6:
        return f"{sign}¥{a / 1e6:,.1f} million"
    return f"{sign}¥{a:,.0f}"


def fmt_value(metric: str, x, lang: str = "en", diff: bool = False) -> str:
    """One value of ``metric`` for a table: percent for shares (percentage points for differences)."""
    if not _finite(x):
        return "–"
    x = float(x)
    kind = metric_kind(metric)
    sign = "+" if diff and x > 0 else ("−" if x < 0 else "")
    a = abs(x)
    if kind == "share":
        if diff:
            return f"{sign}{a * 100:.1f}" + (" 个百分点" if lang == "zh" else " pp")
        return f"{sign}{a * 100:.1f}%"
    if kind == "yuan":
        return fmt_yuan(x, lang, signed=diff)
    if kind == "index":
        return f"{sign}{a:.3f}"
    if kind == "score":
        return f"{sign}{a:.2f}"
    if kind == "rate":
        return f"{sign}{a:.3g}"
    return sign + fmt_number(a)


def fmt_interval(metric: str, lo, hi, lang: str = "en", diff: bool = False) -> str:
    """``lo – hi`` in the metric's format; empty when the bounds are missing."""
    if not (_finite(lo) and _finite(hi)):
        return ""
    return f"{fmt_value(metric, lo, lang, diff)} – {fmt_value(metric, hi, lang, diff)}"


# ----------------------------------------------------------------------------- CJK font

class CJKFontWarning(UserWarning):
    """No font with Chinese glyphs: figures use English labels."""


_CJK_NAME = re.compile(
    r"CJK|Han\s?Sans|Han\s?Serif|Source Han|WenQuanYi|WQY|Sim(Hei|Sun|Kai|Fang)|YaHei|JhengHei|"
    r"PingFang|Hiragino|Heiti|Songti|Kaiti|STHei|STSong|AR PL|UKai|UMing|Droid Sans Fallback|Sarasa|"
    r"LXGW|Zen ?Hei|Micro ?Hei|Noto Sans SC|Noto Serif SC|Noto Sans TC|FangSong|KaiTi|DengXian|"
    r"Unifont|Arial Unicode|MS Gothic|Meiryo|Yu Gothic|Malgun|Nanum|Takao|IPA",
    re.IGNORECASE)


def _has_glyphs(path: str, text: str = CJK_PROBE) -> bool:
    try:
        from matplotlib.ft2font import FT2Font
        font = FT2Font(path)
        return all(font.get_char_index(ord(c)) != 0 for c in text)
    except Exception:  # noqa: BLE001 - an unreadable font is simply not a candidate
        return False


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Family name of an installed font with glyphs for Chinese, or None.

    ``GRASSROOTS_CJK_FONT`` may name a font file to use (it is registered with
    matplotlib's font manager).  Otherwise fonts whose names suggest CJK are
    tried first, then every other font matplotlib knows.
    """
    import matplotlib
    from matplotlib import font_manager

    env = os.environ.get("GRASSROOTS_CJK_FONT")
    if env:
        if os.path.isfile(env) and _has_glyphs(env):
            font_manager.fontManager.addfont(env)
            return font_manager.FontProperties(fname=env).get_name()
        log.warning("GRASSROOTS_CJK_FONT=%s is not a readable font with Chinese glyphs; ignored", env)
    own = os.path.join(matplotlib.get_data_path(), "")
    # matplotlib's own fonts have no CJK; "Last Resort" has a box for every code point (tofu)
    entries = [e for e in font_manager.fontManager.ttflist
               if not os.path.abspath(e.fname).startswith(own) and not re.search(r"last ?resort", e.name, re.I)]
    named = [e for e in entries if _CJK_NAME.search(e.name) or _CJK_NAME.search(os.path.basename(e.fname))]
    # prefer simplified-Chinese faces of multi-language families, then regular weight
    named.sort(key=lambda e: (not re.search(r"\bSC\b|GB|Hei|Microhei|Zenhei", e.name + e.fname, re.I),
                              e.weight not in (400, "normal", "regular"), e.name))
    seen: set[str] = set()
    for e in named + [e for e in entries if e not in named]:
        if e.fname in seen:
            continue
        seen.add(e.fname)
        if _has_glyphs(e.fname):
            return e.name
    return None


_warned = False


def has_bold(family: str) -> bool:
    """Whether matplotlib knows a bold face of ``family`` (else titles are set in the regular face)."""
    from matplotlib import font_manager
    return any(e.name == family and isinstance(e.weight, int) and e.weight >= 600
               for e in font_manager.fontManager.ttflist)


def _warn_no_cjk() -> None:
    global _warned
    if not _warned:
        _warned = True
        msg = ("no font with Chinese glyphs is installed (for example Debian's fonts-noto-cjk); "
               "figures use English labels")
        warnings.warn(msg, CJKFontWarning, stacklevel=3)


# ----------------------------------------------------------------------------- Labels

@dataclass(frozen=True)
class Labels:
    """Language plus display names for scenarios (and any other keys).

    ``Labels("zh", names={"policy-2016": "2016年政策包"})("coverage")`` -> '覆盖率（在岗/需求）'.
    ``font`` is the font family figures use (None: matplotlib's default).
    """

    lang: str = "en"
    names: Mapping[str, str] = field(default_factory=dict)
    font: str | None = None
    fell_back: bool = False  # True when Chinese was asked for but no CJK font exists

    def __post_init__(self):
        check_lang(self.lang)

    def __call__(self, key) -> str:
        k = str(key)
        if k in self.names:
            return str(self.names[k])
        return label(k, self.lang)

    def scenario(self, name) -> str:
        """A scenario's display name: from ``names``, else the name itself (never tidied)."""
        return str(self.names.get(str(name), name))

    def value(self, metric, x, diff: bool = False) -> str:
        return fmt_value(metric, x, self.lang, diff)

    def interval(self, metric, lo, hi, diff: bool = False) -> str:
        return fmt_interval(metric, lo, hi, self.lang, diff)

    def for_figures(self) -> "Labels":
        """These labels as figures can show them: English when no CJK font is installed."""
        if self.lang != "zh" or self.font is not None:
            return self
        font = cjk_font()
        if font is None:
            _warn_no_cjk()
            return Labels("en", self.names, None, True)
        return Labels("zh", self.names, font, False)


def as_labels(labels: "Labels | str | None" = None) -> Labels:
    """``None`` -> English; a language code -> Labels(lang); Labels unchanged."""
    if labels is None:
        return Labels()
    if isinstance(labels, Labels):
        return labels
    if isinstance(labels, str):
        return Labels(labels)
    raise TypeError(f"labels: expected Labels, 'en' or 'zh', not {type(labels).__name__}")
