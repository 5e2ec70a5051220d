"""Hand-written dev queries over the five seed reports in corpus/ (second set).

Same format as /work/shared/eval/seeds_dev_spec.py: (qid, text, kind, units), a unit
"NNN:L" being line L (1-based, str.splitlines()) of the corpus file whose name starts
with NNN. Judged by reading every line that grep finds for several synonyms and key
terms of each query; relevant = the line substantially addresses the query.
Kinds: initiative (programme / noun phrase), semantic (paraphrase that avoids the
report's wording; several are colloquial citizen phrasings), phrase (stock formulation
occurring verbatim, punctuation aside). None repeats the 12 queries of seeds-dev.
"""

QUERIES = [
    # --- initiative ---
    ("s01", "夜啤酒烧烤专项整治", "initiative",
     ["000:130", "000:131", "000:141", "000:151", "001:10", "001:45"]),
    ("s02", "人力客运三轮车整治", "initiative",
     ["000:132", "000:133", "000:141", "000:149", "000:150", "002:69"]),
    ("s03", "户外广告公开拍卖", "initiative", ["000:127"]),
    ("s04", "道路清爽行动", "initiative", ["003:9", "003:10"]),
    ("s05", "建筑垃圾百日专项整治", "initiative", ["003:12", "000:119"]),
    ("s06", "城乡环卫一体化项目", "initiative", ["001:23", "001:24", "001:26", "001:27"]),
    ("s07", "生活垃圾分类试点", "initiative", ["001:16", "001:44", "001:25"]),
    ("s08", "城管义工队伍建设", "initiative", ["003:6"]),
    ("s09", "绿色家庭节能减排行动", "initiative", ["000:58", "000:59"]),
    ("s10", "餐厨垃圾收运处置", "initiative", ["003:10", "001:14"]),
    ("s11", "五年拆违行动", "initiative", ["001:10", "001:43", "002:94"]),
    # --- semantic (s12-s19, s22, s24 colloquial) ---
    ("s12", "街上要饭的人谁来管", "semantic", ["004:22", "004:6"]),
    ("s13", "老头乐满大街乱窜", "semantic", ["004:82", "004:85"]),
    ("s14", "男人打老婆有没有法管", "semantic", ["000:7", "000:51"]),
    ("s15", "饭馆排烟呛得人受不了", "semantic", ["001:10", "001:45", "002:32"]),
    ("s16", "小黄车扔得满街都是", "semantic", ["001:10", "004:96", "002:68", "002:34", "000:118"]),
    ("s17", "想上厕所找不到茅房", "semantic", ["002:113", "001:14", "003:11", "001:44", "004:82"]),
    ("s18", "有人偷偷在河里挖沙子", "semantic", ["004:126", "004:127"]),
    ("s19", "爸妈外出打工孩子留在老家", "semantic", ["000:13", "000:17", "000:20", "004:47"]),
    ("s20", "几个部门的执法权归拢到一支队伍", "semantic", ["000:122"]),
    ("s21", "给一线队员配车换手机", "semantic", ["002:106"]),
    ("s22", "疫情过后帮小店重新开张", "semantic", ["001:28", "001:32", "001:41"]),
    ("s23", "上电视点名环境最脏的村子", "semantic", ["000:112"]),
    ("s24", "帮穷孩子实现小愿望", "semantic", ["002:114"]),
    # --- phrase ---
    ("s25", "守土有责 守土担责 守土尽责", "phrase", ["001:29"]),
    ("s26", "城在绿中 路在林中 居在园中", "phrase", ["002:130"]),
    ("s27", "能者上 庸者下 劣者汰", "phrase", ["001:41"]),
    ("s28", "一级抓一级 层层抓落实", "phrase", ["002:154", "004:7"]),
    ("s29", "横向到边 纵向到底", "phrase", ["002:145"]),
    ("s30", "乱要治 杂要清 草要除", "phrase", ["002:64"]),
    ("s31", "在一线上班 上班在一线", "phrase", ["003:7"]),
    ("s32", "美丽抬头可见 幸福触手可及", "phrase", ["001:9"]),
    ("s33", "疏堵结合", "phrase", ["000:115", "000:131", "001:41", "004:52"]),
    ("s34", "以周促月 以月促年", "phrase", ["002:51"]),
]
