"""Hand-written held-out dev queries (semantic only) over the five seed reports in corpus/,
written without seeing the thesaurus (search/data/thesaurus.txt) or its miner, as a
held-out check for it.

Same format as seeds_more_spec.py: (qid, text, kind, units), a unit "NNN:L" being line L
(1-based, str.splitlines()) of the corpus file whose name starts with NNN. Judged by reading
every line that grep finds (on the traditional-to-simplified text) for several synonyms and
key terms of each query; relevant = the line substantially addresses the query. Every query
is `semantic`: it shares no 3+ characters in a row with any of its relevant lines
(normalised as in build.py). All are colloquial citizen phrasings except t08, t10 and t15
(official paraphrases). None repeats a query of seeds_more_spec.py, gov_spec.py or seeds-dev.
"""

QUERIES = [
    # --- semantic (all colloquial except t08, t10, t15) ---
    ("t01", "电线杆上贴满办证、通下水道的小纸条", "semantic",
     ["000:118", "001:10", "001:15", "002:64", "002:68", "002:91", "004:10", "004:17", "004:49",
      "004:52", "004:82", "004:91", "004:102", "004:136"]),
    ("t02", "头一回违规先提个醒，别上来就罚钱", "semantic",
     ["001:32", "001:39", "001:46"]),
    ("t03", "楼道里耗子、小强乱窜，谁来撒药", "semantic",
     ["002:35", "002:36", "002:66", "004:35", "004:36", "004:72", "004:80", "004:82"]),
    ("t04", "路上下水道的盖子丢了，怕有人掉下去", "semantic",
     ["000:137", "002:17", "002:67"]),
    ("t05", "街边小饭馆、小发廊、小澡堂脏兮兮的", "semantic",
     ["002:22", "002:23", "002:63", "002:66", "002:83", "002:135", "004:53", "004:82"]),
    ("t06", "用过的口罩和医院的针管垃圾怎么处理", "semantic",
     ["001:31", "002:32", "004:82"]),
    ("t07", "晚上酒吧和工地吵得人睡不着觉", "semantic",
     ["001:45", "002:21", "002:32", "002:75", "004:82", "004:92"]),
    ("t08", "借助摄像探头和网上平台及时发现处置市容问题", "semantic",
     ["000:128", "000:129", "000:145", "000:146", "001:18", "001:19", "001:20", "001:21", "001:22",
      "001:47", "002:5", "002:110", "003:3", "003:4", "003:5"]),
    ("t09", "打电话告状到底有没有人搭理", "semantic",
     ["000:39", "000:120", "001:21", "002:51", "002:110", "002:112", "003:3", "004:148"]),
    ("t10", "临街铺面和机关各自承担门外区域的保洁与秩序责任", "semantic",
     ["000:120", "001:9", "001:10", "001:44", "002:15", "002:43", "002:52", "002:65", "002:68",
      "002:69", "002:136", "004:17", "004:80", "004:90", "004:103", "004:119", "004:131",
      "004:152"]),
    ("t11", "靠机器扫街冲路面，少让人拿扫帚扫", "semantic",
     ["001:15", "001:17", "001:44", "003:9", "003:10"]),
    ("t12", "城边上的村子又脏又乱，鸡鸭满地跑", "semantic",
     ["002:54", "002:64", "002:83", "002:94", "002:134", "002:135", "004:82"]),
    ("t13", "几十年的老楼院没人打扫，也没有物管", "semantic",
     ["001:12", "001:46", "002:26", "002:54", "002:64", "002:83", "004:131", "004:136", "004:138"]),
    ("t14", "河面上漂的塑料瓶、烂菜叶谁去捞", "semantic",
     ["002:29", "002:30", "002:67", "003:10", "003:11", "004:129"]),
    ("t15", "盯紧矿山、化工厂这类危险行当，防止出人命", "semantic",
     ["002:142", "002:144", "002:145", "002:146", "002:147", "002:148", "002:149", "004:45",
      "004:50", "004:150"]),
]
