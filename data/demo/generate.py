#!/usr/bin/env python3
"""Deterministic generator for the Haikou (海口, 2011) demo data.

Produces, next to this script:
  haikou-orgs.csv            code,parent_code,kind,name
  haikou-items.csv           code,name,department_code,legal_days,promised_days,fee_cents
  haikou-items-gb18030.csv   first 10 items of haikou-items.csv, GB18030-encoded

Town/street list follows the 2010-2011 structure of Haikou (18 街道 + 23 镇 = 41).
Village/community names: a few real names per town where known, the rest are
plausible Hainan-style names drawn from a fixed-seed RNG.
Run: python3 generate.py
"""
import csv
import io
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20110101)

CITY = ("460100", "海口市")

DISTRICTS = [
    ("460105", "秀英区"),
    ("460106", "龙华区"),
    ("460107", "琼山区"),
    ("460108", "美兰区"),
]

# (district, suffix, name, number of villages/communities); None = remainder.
TOWNS = [
    ("460105", "001", "秀英街道", 7),
    ("460105", "002", "海秀街道", 9),
    ("460105", "100", "长流镇", 14),
    ("460105", "101", "西秀镇", 11),
    ("460105", "102", "海秀镇", 10),
    ("460105", "103", "石山镇", 14),
    ("460105", "104", "永兴镇", 14),
    ("460105", "105", "东山镇", 12),

    ("460106", "001", "中山街道", 6),
    ("460106", "002", "滨海街道", 9),
    ("460106", "003", "金宇街道", 9),
    ("460106", "004", "大同街道", 10),
    ("460106", "005", "海垦街道", 8),
    ("460106", "006", "金贸街道", 7),
    ("460106", "100", "城西镇", 10),
    ("460106", "101", "新坡镇", 12),
    ("460106", "102", "龙泉镇", 13),
    ("460106", "103", "龙桥镇", 9),
    ("460106", "104", "遵谭镇", 11),

    ("460107", "001", "国兴街道", 9),
    ("460107", "002", "滨江街道", 7),
    ("460107", "100", "府城镇", 14),
    ("460107", "101", "龙塘镇", 13),
    ("460107", "102", "云龙镇", 11),
    ("460107", "103", "红旗镇", 13),
    ("460107", "104", "三门坡镇", 13),
    ("460107", "105", "大坡镇", 10),
    ("460107", "106", "甲子镇", 13),
    ("460107", "107", "旧州镇", 9),

    ("460108", "001", "人民路街道", 8),
    ("460108", "002", "海甸街道", 9),
    ("460108", "003", "白龙街道", 7),
    ("460108", "004", "和平南街道", 6),
    ("460108", "005", "白沙街道", 6),
    ("460108", "006", "博爱街道", 5),
    ("460108", "007", "新港街道", 5),
    ("460108", "008", "蓝天街道", 6),
    ("460108", "100", "演丰镇", 15),
    ("460108", "101", "三江镇", 9),
    ("460108", "102", "大致坡镇", 11),
    ("460108", "103", "灵山镇", None),
]
TOTAL_TOWNS = 41
TOTAL_VILLAGES = 407

# Real (or well-attested) names, used first; the rest is generated.
KNOWN = {
    "秀英街道": ["秀华", "秀中", "海港", "长影"],
    "海秀街道": ["海秀", "丘海", "椰海", "长秀"],
    "中山街道": ["中山", "得胜沙", "长堤", "博爱南"],
    "大同街道": ["大同", "龙华", "海秀中"],
    "金宇街道": ["金宇", "金盘", "金龙"],
    "滨海街道": ["滨海", "玉沙", "滨海新村"],
    "国兴街道": ["国兴", "大英", "琼华"],
    "滨江街道": ["滨江", "美舍", "红城湖"],
    "人民路街道": ["人民路", "海达", "上坡"],
    "海甸街道": ["沿江", "福安", "万兴"],
    "白沙街道": ["白沙", "白沙门"],
    "白龙街道": ["白龙", "义龙"],
    "新港街道": ["新港", "港湾"],
    "石山镇": ["施茶", "美社", "扬佳", "道堂", "岭西", "安仁", "建新", "北铺", "春藏"],
    "永兴镇": ["永德", "博强", "建群", "雷虎", "罗经", "儒逢", "美城", "冯塘"],
    "长流镇": ["儒益", "博养", "长北", "长德", "长东", "美德"],
    "西秀镇": ["荣山", "拔南", "美李"],
    "东山镇": ["东山", "光明", "溪头", "射钗", "东城"],
    "演丰镇": ["演丰", "演东", "演西", "演海", "山尾", "塔市", "北港", "边海", "昌城"],
    "三江镇": ["三江", "上山", "茄南"],
    "云龙镇": ["云蛟", "云龙", "儒传", "长泰", "玉下", "仕礼"],
    "红旗镇": ["红旗", "本立", "合群", "龙源", "益民"],
    "甲子镇": ["甲子", "昌西", "新昌"],
    "旧州镇": ["旧州", "联丰", "道美"],
    "龙塘镇": ["龙塘", "仁三", "三联", "永东", "潭口", "新民"],
    "大坡镇": ["大坡", "新瑞"],
    "三门坡镇": ["三门坡", "谭文", "龙马", "清泉"],
    "新坡镇": ["新坡", "民丰", "仁里"],
    "遵谭镇": ["遵谭", "涌潭", "东谭", "咸谭"],
    "龙泉镇": ["龙泉", "翰香"],
    "龙桥镇": ["龙桥", "玉荣"],
    "城西镇": ["薛村", "沙坡"],
    "灵山镇": ["灵山", "东营"],
    "大致坡镇": ["大致坡"],
}

# Pools for generated names.
URBAN_A = "海秀金龙和新文福椰滨港明华兴安康丰泰瑞盛南北东西"
URBAN_B = "华兴安平城海湖苑园港桥岭湾秀德宁丰昌盛源景"
RURAL_A = "美儒博道那永昌福仁大新上下东西南北文光长荣丰益和合群龙云凤玉茂安谭苏罗冯石书典岭"
RURAL_B = "李益养德东西城社兰安坡山塘岭头星昌明丰盈秀堂富群民文江湖兴新仕礼贵荣良和美南北"

CITY_DEPTS = [
    "市发展和改革委员会", "市公安局", "市民政局", "市人力资源和社会保障局",
    "市国土资源局", "市规划局", "市住房和城乡建设局", "市交通运输局",
    "市工商行政管理局", "市质量技术监督局", "市卫生局", "市环境保护局",
    "市文化广电出版体育局", "市地方税务局", "市食品药品监督管理局", "市教育局",
    "市农业局", "市水务局", "市商务局", "市安全生产监督管理局",
]
DISTRICT_DEPTS = [
    "发展和改革局", "民政局", "人力资源和社会保障局", "住房和城乡建设局",
    "卫生局", "教育局", "城市管理局", "农业局",
]
DISTRICT_DEPT_COUNT = {"460105": 8, "460106": 7, "460107": 8, "460108": 6}

# code, name, department, legal_days, promised_days, fee_cents (fen)
ITEMS = [
    ("SX001", "企业投资项目核准", "460100-D01", 20, 10, 0),
    ("SX002", "企业投资项目备案", "460100-D01", 10, 3, 0),
    ("SX003", "固定资产投资项目节能评估和审查", "460100-D01", 20, 10, 0),
    ("SX004", "机动车驾驶证换证", "460100-D02", 10, 1, 1000),
    ("SX005", "居民身份证办理", "460100-D02", 60, 30, 2000),
    ("SX006", "往来港澳通行证签发", "460100-D02", 15, 10, 10000),
    ("SX007", "社会团体成立登记", "460100-D03", 60, 30, 0),
    ("SX008", "民办非企业单位成立登记", "460100-D03", 60, 30, 0),
    ("SX009", "养老机构设立许可", "460100-D03", 20, 10, 0),
    ("SX010", "劳务派遣经营许可", "460100-D04", 20, 10, 0),
    ("SX011", "职业介绍机构设立许可", "460100-D04", 20, 10, 0),
    ("SX012", "国有建设用地使用权出让审批", "460100-D05", 20, 10, 0),
    ("SX013", "建设用地规划许可证核发", "460100-D06", 20, 10, 0),
    ("SX014", "建设工程规划许可证核发", "460100-D06", 20, 10, 0),
    ("SX015", "建设项目选址意见书核发", "460100-D06", 20, 10, 0),
    ("SX016", "建筑工程施工许可证核发", "460100-D07", 15, 7, 0),
    ("SX017", "商品房预售许可", "460100-D07", 20, 10, 0),
    ("SX018", "房地产开发企业资质核定", "460100-D07", 20, 10, 0),
    ("SX019", "道路运输经营许可", "460100-D08", 20, 10, 0),
    ("SX020", "出租汽车经营许可", "460100-D08", 20, 10, 0),
    ("SX021", "企业名称预先核准", "460100-D09", 10, 3, 0),
    ("SX022", "企业设立登记", "460100-D09", 15, 5, 0),
    ("SX023", "个体工商户设立登记", "460100-D09", 15, 3, 0),
    ("SX024", "食品流通许可证核发", "460100-D09", 20, 10, 5000),
    ("SX025", "工业产品生产许可证初审", "460100-D10", 30, 15, 0),
    ("SX026", "组织机构代码证办理", "460100-D10", 10, 3, 14800),
    ("SX027", "医疗机构执业许可", "460100-D11", 45, 20, 0),
    ("SX028", "公共场所卫生许可证核发", "460100-D11", 20, 10, 0),
    ("SX029", "建设项目环境影响评价文件审批", "460100-D12", 60, 30, 0),
    ("SX030", "排污许可证核发", "460100-D12", 20, 10, 0),
    ("SX031", "互联网上网服务营业场所经营许可", "460100-D13", 20, 10, 0),
    ("SX032", "营业性演出许可", "460100-D13", 20, 10, 0),
    ("SX033", "税务登记", "460100-D14", 30, 10, 0),
    ("SX034", "餐饮服务许可证核发", "460100-D15", 20, 10, 0),
    ("SX035", "药品经营许可证（零售）核发", "460100-D15", 30, 15, 0),
    ("SX036", "民办学校设立审批", "460100-D16", 60, 30, 0),
    ("SX037", "动物防疫条件合格证核发", "460100-D17", 20, 10, 0),
    ("SX038", "取水许可", "460100-D18", 45, 20, 0),
    ("SX039", "对外贸易经营者备案登记", "460100-D19", 10, 3, 0),
    ("SX040", "危险化学品经营许可证核发", "460100-D20", 30, 15, 0),
]


def town_counts():
    fixed = sum(n for *_, n in TOWNS if n is not None)
    out = []
    for d, s, name, n in TOWNS:
        if n is None:
            n = TOTAL_VILLAGES - fixed
        assert 5 <= n <= 20, (name, n)
        out.append((d, s, name, n))
    assert len(out) == TOTAL_TOWNS
    assert sum(x[3] for x in out) == TOTAL_VILLAGES
    return out


DIRS = "东西南北上下中"
# never generate a name that equals a town/street stem (e.g. 新坡, 龙桥)
RESERVED = {t[2].removesuffix("街道").removesuffix("镇") for t in TOWNS}


def gen_name(pool_a, pool_b, used):
    while True:
        a = rng.choice(pool_a)
        b = rng.choice(pool_b)
        if a == b or (a in DIRS and b in DIRS):
            continue
        n = a + b
        if n not in used and n not in RESERVED:
            return n


def build_orgs():
    rows = [(CITY[0], "", "city", CITY[1]),
            (CITY[0] + "-V", CITY[0], "service_center", CITY[1] + "政务服务中心")]
    for code, name in DISTRICTS:
        rows.append((code, CITY[0], "district", name))
        rows.append((code + "-V", code, "service_center", name + "政务服务中心"))
    used_by_district = {code: set() for code, _ in DISTRICTS}
    for d, s, tname, n in town_counts():
        tcode = d + s
        rows.append((tcode, d, "town", tname))
        rows.append((tcode + "-V", tcode, "convenience_center", tname + "便民服务中心"))
        street = tname.endswith("街道")
        used = used_by_district[d]
        names = []
        for k in KNOWN.get(tname, []):
            if k not in used and len(names) < n:
                used.add(k)
                names.append(k)
        while len(names) < n:
            nm = gen_name(URBAN_A, URBAN_B, used) if street else gen_name(RURAL_A, RURAL_B, used)
            used.add(nm)
            names.append(nm)
        for i, nm in enumerate(names):
            if street:
                vcode = f"{tcode}{i + 1:03d}"
                vname = nm + "社区居委会"
            else:
                vcode = f"{tcode}{201 + i:03d}"
                vname = nm + "村委会"
            rows.append((vcode, tcode, "village", vname))
            rows.append((vcode + "-V", vcode, "agent_point", vname + "代办点"))
    for i, nm in enumerate(CITY_DEPTS):
        rows.append((f"{CITY[0]}-D{i + 1:02d}", CITY[0], "department", nm))
    for code, dname in DISTRICTS:
        for i, nm in enumerate(DISTRICT_DEPTS[:DISTRICT_DEPT_COUNT[code]]):
            rows.append((f"{code}-D{i + 1:02d}", code, "department", dname + nm))
    return rows


def to_csv(header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def main():
    orgs = build_orgs()
    dept_codes = {r[0] for r in orgs if r[2] == "department"}
    for code, name, dept, legal, promised, fee in ITEMS:
        assert dept in dept_codes and dept.startswith("460100-D"), code
        assert 1 <= promised <= legal, code
        assert fee >= 0
    with open(os.path.join(HERE, "haikou-orgs.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(to_csv(["code", "parent_code", "kind", "name"], orgs))
    header = ["code", "name", "department_code", "legal_days", "promised_days", "fee_cents"]
    with open(os.path.join(HERE, "haikou-items.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(to_csv(header, ITEMS))
    with open(os.path.join(HERE, "haikou-items-gb18030.csv"), "wb") as f:
        f.write(to_csv(header, ITEMS[:10]).encode("gb18030"))


if __name__ == "__main__":
    main()
