"""bot.core.triage: relevance with context, topics, typed entities and quantities, importance, why."""

from __future__ import annotations

import pytest

from bot.core.quantities import find_quantities
from bot.core.taxonomy import Vocabulary, load_vocabulary
from bot.core.triage import story_importance, triage
from bot.models import Article, Triage

# Our own short articles: the hard cases the product must get right.
RELEVANT = {
    "lab-compute-deal": (
        "Mistral AI signs multiyear compute deal for 18,000 Grace Blackwell chips",
        "The Paris-based lab will rent the accelerators from a French cloud operator to train its next "
        "models. The contract covers capacity in two data centers near Paris and runs for five years.",
    ),
    "utility-power": (
        "Utility agrees to supply 1.2 GW to data center campus in Ohio",
        "The power company said it will build new transmission lines and a substation to serve the "
        "hyperscale campus, which a cloud provider plans to fill with AI servers from 2027.",
    ),
    "export-rule": (
        "Commerce tightens export controls on advanced AI chips to China",
        "The Bureau of Industry and Security published a rule that adds licence requirements for "
        "accelerators above a performance threshold and puts 12 Chinese firms on the entity list.",
    ),
    "hbm-supply": (
        "SK Hynix says next year's HBM output is sold out",
        "The memory maker said demand for high-bandwidth memory from AI accelerator makers exceeds what "
        "its lines can produce, and it will add packaging capacity in Cheongju.",
    ),
    "miner-pivot": (
        "Bitcoin miner converts Texas site to host AI workloads for a hyperscaler",
        "The company will retire its mining rigs at the 300 MW site and lease the halls to a cloud "
        "customer under a 12-year colocation contract for GPU clusters, its chief executive said.",
    ),
    "short-brief": (
        "CoreWeave adds 250 MW of capacity in Pennsylvania",
        "The GPU cloud provider signed the lease on Tuesday.",
    ),
    "german": (
        "Nvidia liefert KI-Chips für neues Rechenzentrum in Bayern",
        "Der Betreiber will bis 2027 rund 10.000 Grafikprozessoren installieren. Die Stromversorgung "
        "des Rechenzentrums soll ein eigenes Umspannwerk sichern.",
    ),
    "chinese": (
        "华为发布新一代昇腾AI芯片",
        "华为表示，新芯片将用于数据中心的大模型训练，算力比上一代提升一倍。",
    ),
    "japanese": (
        "ソフトバンク、北海道に大規模AIデータセンターを建設",
        "同社はGPUを数万基導入し、再生可能エネルギーで電力をまかなう計画だ。",
    ),
    "spanish": (
        "Meta construirá un centro de datos de IA de 2 GW en Luisiana",
        "La compañía invertirá 10.000 millones de dólares en el campus, que albergará chips de IA.",
    ),
}
# Wire copy, briefs and other languages: the mix real feeds deliver.
RELEVANT.update(
    {
        "brief-invest": (
            "Nvidia to invest $5 billion in Intel",
            "The companies will co-develop data-center products.",
        ),
        "capex": (
            "TSMC lifts capital budget to $42 billion on accelerator demand",
            "HSINCHU, Jan 16 (Wire) - Taiwan Semiconductor Manufacturing Co said it would spend up to $42 "
            "billion this year, citing orders for advanced packaging and 3nm wafers from AI customers.",
        ),
        "tool-export": (
            "Netherlands widens licence rules for ASML lithography tools",
            "The Dutch government said exporters will need a licence to ship more deep-ultraviolet systems "
            "to China, aligning with U.S. restrictions on chipmaking equipment.",
        ),
        "nuclear-ppa": (
            "Amazon buys nuclear power from Talen for Pennsylvania campus",
            "The agreement covers up to 1.92 GW from the Susquehanna plant through 2042 to supply the "
            "company's data center campus next to the reactor.",
        ),
        "grid-load": (
            "Texas grid operator says large-load requests top 200 GW",
            "ERCOT told lawmakers most of the new requests come from data centers and crypto sites, and "
            "that interconnection studies now take more than a year.",
        ),
        "china-h20": (
            "Chinese regulators tell tech firms to halt purchases of Nvidia H20",
            "The Cyberspace Administration of China summoned several companies over the chips, citing "
            "security concerns, people familiar with the matter said.",
        ),
        "fab": (
            "Micron breaks ground on $100 billion memory megafab in New York",
            "The first of four fabs will make DRAM, including high-bandwidth memory for AI servers.",
        ),
        "korean": (
            "SK하이닉스, HBM4 양산 체제 구축",
            "SK하이닉스는 엔비디아에 공급할 고대역폭메모리 생산을 늘린다고 밝혔다.",
        ),
        "arabic": (
            "هيوماين تبني مراكز بيانات للذكاء الاصطناعي في السعودية",
            "قالت الشركة إن المراكز ستضم رقائق من إنفيديا بقدرة إجمالية تبلغ 1.9 جيجاوات.",
        ),
        "french": (
            "EDF propose quatre sites pour accueillir des centres de données",
            "L'électricien veut raccorder rapidement des campus de calcul pour l'intelligence artificielle.",
        ),
        "portuguese": (
            "Governo lança política para atrair data centers ao Brasil",
            "O plano reduz impostos sobre servidores e exige energia renovável para novos centros de dados.",
        ),
        "chinese-capex": (
            "阿里巴巴宣布三年投入3800亿元建设云和AI基础设施",
            "阿里巴巴表示，这笔投资将用于数据中心、AI芯片和服务器采购。",
        ),
    }
)
IRRELEVANT = {
    "gaming-review": (
        "GeForce RTX 5090 review: the fastest gaming card yet",
        "In our benchmarks the card averaged 140 fps at 4K with DLSS and ray tracing enabled. Gamers "
        "will need a 1000 W power supply. The Founders Edition sells at its MSRP of $1,999.",
    ),
    "chatbot-feature": (
        "Chatbot app adds voice mode that remembers your grocery list",
        "Users can now ask the AI assistant to keep shopping lists and recipes. The new feature is "
        "rolling out to subscribers on iPhone and Android this week.",
    ),
    "bitcoin-miners": (
        "Bitcoin miners expand fleets as hashrate hits a record",
        "Publicly listed miners added 40,000 ASIC miners last quarter as the bitcoin price climbed "
        "ahead of the halving. Power costs remain their largest expense.",
    ),
    "car-chips": (
        "Automakers cut output as microcontroller chip shortage returns",
        "Two carmakers halted assembly lines after a supplier of automotive chips warned of delays. "
        "The vehicles affected include popular SUVs and several EV models.",
    ),
    "market-wrap": (
        "Stocks close higher as Treasury yields ease",
        "The S&P 500 rose 0.8% and the Nasdaq Composite gained 1.1%. Nvidia and Apple led the "
        "megacap gains while oil prices slipped. Investors await Friday's jobs report.",
    ),
    "smartphone": (
        "New flagship phone's AI chip promises faster photo edits",
        "The handset's camera gets a 200-megapixel sensor and battery life improves by two hours. "
        "On-device AI features include live translation and photo clean-up.",
    ),
    "sport": (
        "Local team wins cup final after penalty shoot-out",
        "The football club lifted the trophy in front of 40,000 fans on Saturday.",
    ),
}

IRRELEVANT.update(
    {
        "phone-launch": (
            "Samsung unveils Galaxy S26 with new Exynos chip",
            "The smartphone gets a brighter display, a bigger battery and new camera modes.",
        ),
        "consumer-ai": (
            "Assistant app can now summarise videos and draft emails",
            "The AI assistant's new features roll out to users on Android and iPhone this week.",
        ),
        "crypto-miner": (
            "Riot adds 10 exahash of bitcoin mining capacity in Texas",
            "The miner installed new ASIC rigs and said its hashrate now leads listed peers.",
        ),
        "truck-recall": (
            "Ford recalls 100,000 trucks over faulty chip in brake module",
            "Dealers will replace the module for free. The automaker said no crashes were reported.",
        ),
        "handheld-review": (
            "Handheld gaming PC review: AMD chip runs most games at 60 fps",
            "Battery life is about two hours in demanding games; the screen is bright and the price fair.",
        ),
        "utility-rates": (
            "Utility raises residential rates after storm repair costs",
            "Customers will pay about $4 more a month on their electricity bills starting in March.",
        ),
        "chinese-phone": (
            "小米发布新款智能手机，搭载自研芯片",
            "新手机的摄像头和电池续航均有提升，售价3999元。",
        ),
        "japanese-game": ("任天堂、新型ゲーム機の販売が好調", "年末商戦でゲームソフトの売り上げも伸びた。"),
        "solar-farm": (
            "County approves 80 MW solar farm on former golf course",
            "The project will sell power to the local utility under a 20-year contract.",
        ),
    }
)


# Company news that names big players: infrastructure only when the story is about infrastructure.
RELEVANT.update(
    {
        "nvidia-shares-rise-as-data-c": (
            "Nvidia shares rise as data center revenue soars",
            "Nvidia said data center revenue rose 56% to $41 billion on demand for Blackwell systems from "
            "cloud providers.",
        ),
        "meta-to-spend-up-to-65-billi": (
            "Meta to spend up to $65 billion on AI infrastructure this year",
            "Zuckerberg said the company will bring about 1 GW of compute online and end the year with more "
            "than 1.3 million GPUs.",
        ),
        "samsung-profit-jumps-on-memo": (
            "Samsung profit jumps on memory chip demand from AI servers",
            "Operating profit rose as prices for DRAM and high-bandwidth memory climbed.",
        ),
        "amd-to-acquire-zt-systems-fo": (
            "AMD to acquire ZT Systems for $4.9 billion",
            "The deal adds server design expertise.",
        ),
        "oracle-to-buy-40-billion-of": (
            "Oracle to buy $40 billion of Nvidia chips for OpenAI's Texas site",
            "The Abilene facility will house about 400,000 GB200 superchips, people familiar said.",
        ),
        "core-scientific-signs-200-mw": (
            "Core Scientific signs 200 MW AI hosting deal with CoreWeave",
            "The bitcoin miner will convert halls in Texas to host GPUs for the AI cloud provider.",
        ),
        "china-s-smic-ramps-5nm-outpu": (
            "China's SMIC ramps 5nm output for Huawei",
            "The foundry is using DUV tools to make Ascend AI processors, analysts say.",
        ),
        "trump-says-nvidia-may-sell-s": (
            "Trump says Nvidia may sell scaled-down Blackwell to China",
            "The president said a version with 30% to 50% less performance could get an export licence.",
        ),
        "brookfield-launches-100-bill": (
            "Brookfield launches $100 billion AI infrastructure programme",
            "The asset manager will invest in data centers, power and compute with Nvidia as a partner.",
        ),
        "xai-raises-20-billion-to-exp": (
            "xAI raises $20 billion to expand Colossus",
            "The startup will buy more Nvidia GPUs for its Memphis supercomputer.",
        ),
    }
)
IRRELEVANT.update(
    {
        "openai-launches-gpt-5-with-b": (
            "OpenAI launches GPT-5 with better reasoning and fewer hallucinations",
            "The model is available to ChatGPT users today. OpenAI said it writes better code and answers "
            "health questions more carefully.",
        ),
        "nvidia-stock-is-it-a-buy-aft": (
            "Nvidia stock: is it a buy after a 10% drop?",
            "Shares of the chipmaker fell last week. Analysts still see upside and keep a buy rating with a "
            "price target of $200.",
        ),
        "eu-rules-for-general-purpose": (
            "EU rules for general-purpose AI models take effect",
            "Providers of large AI models must publish summaries of training data and respect copyright "
            "under the AI Act.",
        ),
        "apple-unveils-m5-chip-for-ma": (
            "Apple unveils M5 chip for MacBook Pro",
            "The new laptop chip brings faster graphics and longer battery life, Apple said.",
        ),
        "anthropic-s-claude-can-now-c": (
            "Anthropic's Claude can now control your browser",
            "The feature, rolling out to Max subscribers, lets the chatbot click buttons and fill in forms.",
        ),
        "crypto-miner-cleanspark-buys": (
            "Crypto miner CleanSpark buys more Antminer rigs",
            "The bitcoin miner expanded its hashrate to 50 EH/s.",
        ),
        "chip-shortage-hits-appliance": (
            "Chip shortage hits appliance makers",
            "Washing machine and fridge makers say microcontroller supply is tight.",
        ),
        "nintendo-switch-2-sells-10-m": (
            "Nintendo Switch 2 sells 10 million units",
            "The console, powered by an Nvidia chip, is the fastest-selling Nintendo hardware.",
        ),
        "tesla-recalls-cybertruck-ove": (
            "Tesla recalls Cybertruck over panel",
            "The automaker will replace the trim.",
        ),
        "google-adds-ai-mode-to-searc": (
            "Google adds AI Mode to Search in more languages",
            "Users can now ask follow-up questions in Spanish and Hindi.",
        ),
    }
)


# Hard negatives: big names, chips and AI in stories that are not about infrastructure.
IRRELEVANT.update(
    {
        "tech-stocks-lead-nasdaq-to-r": (
            "Tech stocks lead Nasdaq to record as chipmakers rally",
            "The Philadelphia semiconductor index jumped 2.1%, with Nvidia, Broadcom and AMD among the top "
            "gainers. The Dow added 150 points while Treasury yields were little changed.",
        ),
        "nvidia-microsoft-drag-wall-s": (
            "Nvidia, Microsoft drag Wall Street lower",
            "Megacap tech shares fell on Tuesday as investors took profits. The S&P 500 lost 0.6%.",
        ),
        "asian-markets-mixed-tsmc-sam": (
            "Asian markets mixed; TSMC, Samsung weigh on indexes",
            "Taiwan's benchmark slipped 0.4% as TSMC fell, while South Korea's Kospi ended flat.",
        ),
        "rtx-5070-ti-vs-rx-9070-xt-wh": (
            "RTX 5070 Ti vs RX 9070 XT: which graphics card should you buy?",
            "We tested both cards in 20 games at 1440p. The Nvidia card wins with ray tracing, while AMD "
            "offers more VRAM for the money.",
        ),
        "nvidia-driver-update-fixes-s": (
            "Nvidia driver update fixes stuttering in new shooter",
            "The GeForce driver adds support for the game and improves frame pacing on RTX 40 cards.",
        ),
        "chatgpt-gets-shopping-featur": (
            "ChatGPT gets shopping features ahead of holidays",
            "OpenAI's chatbot can now compare products and track prices for users in the US.",
        ),
        "meta-ai-app-adds-video-editi": (
            "Meta AI app adds video editing tools",
            "Users can restyle clips with AI prompts in the Meta AI app and on Instagram.",
        ),
        "gemini-comes-to-google-tv": (
            "Gemini comes to Google TV",
            "Google's AI assistant will answer questions and recommend shows on televisions later this year.",
        ),
        "bitcoin-miners-revenue-falls": (
            "Bitcoin miners' revenue falls after halving",
            "Hashprice dropped to a record low as network difficulty rose, squeezing miners' margins.",
        ),
        "carmaker-halts-production-ov": (
            "Carmaker halts production over Nexperia chip supply",
            "The automaker said assembly of two models will pause next week because of a shortage of "
            "semiconductors used in vehicle electronics.",
        ),
        "volkswagen-warnt-vor-chipman": (
            "Volkswagen warnt vor Chipmangel",
            "Der Autohersteller rechnet wegen fehlender Halbleiter mit Produktionsausfällen in mehreren "
            "Werken.",
        ),
        "samsung-galaxy-z-fold-7-revi": (
            "Samsung Galaxy Z Fold 7 review",
            "The foldable phone is thinner, with a Snapdragon chip, a better camera and all-day battery "
            "life.",
        ),
        "qualcomm-unveils-snapdragon": (
            "Qualcomm unveils Snapdragon chip for Windows laptops",
            "The processor's NPU runs AI features on-device, promising longer battery life for thin laptops.",
        ),
        "school-district-bans-ai-chat": (
            "School district bans AI chatbots on student devices",
            "Officials said they worry about cheating and privacy.",
        ),
        "ai-generated-song-tops-strea": (
            "AI-generated song tops streaming chart",
            "The track, made with an AI music tool, drew millions of plays before the platform labelled it.",
        ),
        "lawmakers-propose-rules-on-a": (
            "Lawmakers propose rules on AI deepfakes in elections",
            "The bill would require labels on AI-generated political ads.",
        ),
        "power-outage-hits-50-000-hom": (
            "Power outage hits 50,000 homes after storm",
            "The utility said crews were restoring electricity and expected most customers back by evening.",
        ),
        "nuclear-plant-receives-licen": (
            "Nuclear plant receives licence extension",
            "The regulator approved 20 more years of operation for the two reactors.",
        ),
        "semiconductor-stocks-three-p": (
            "Semiconductor stocks: three picks for 2026",
            "Analysts favour chip designers with exposure to AI demand; here are our favourite shares and "
            "price targets.",
        ),
        "intel-shares-jump-on-report": (
            "Intel shares jump on report of takeover interest",
            "The stock rose 8% in afternoon trading, its best day in months.",
        ),
        "nvidia-ceo-jensen-huang-dona": (
            "Nvidia CEO Jensen Huang donates $50 million to alma mater",
            "The gift will fund a new engineering building at the university.",
        ),
        "sony-s-new-playstation-uses": (
            "Sony's new PlayStation uses custom AMD chip",
            "The console will run games at 120 fps and launches in November.",
        ),
        "ai-startup-raises-30-million": (
            "AI startup raises $30 million for legal chatbot",
            "The company's software drafts contracts for law firms.",
        ),
        "microsoft-copilot-comes-to-e": (
            "Microsoft Copilot comes to Excel for all users",
            "The AI assistant can now build formulas and charts from plain language.",
        ),
        "10": ("加密货币市场反弹，比特币重回10万美元", "比特币价格上涨，矿工收入增加。"),
        "cjk-25": ("ソニー、新型ゲーム機を発表", "新しいゲーム機はAMD製チップを搭載する。"),
        "apple-intelligence-llega-a-l": (
            "Apple Intelligence llega a los iPhone en español",
            "Los usuarios ahora pueden usar las nuevas funciones de IA en sus teléfonos.",
        ),
        "les-bourses-europ-ennes-term": (
            "Les Bourses européennes terminent en hausse",
            "Le CAC 40 a gagné 0,8 %, porté par les valeurs technologiques comme ASML et STMicroelectronics.",
        ),
        "data-breach-at-retailer-expo": (
            "Data breach at retailer exposes 2 million customers",
            "Hackers accessed a database stored with a cloud provider, the company said.",
        ),
        "smart-thermostat-maker-adds": (
            "Smart thermostat maker adds AI energy-saving mode",
            "The feature learns household routines to cut heating bills.",
        ),
    }
)


# A long analysis piece with a vague title: the body carries the subject.
_ANALYSIS = (
    "Three years into the build-out, the constraint has moved. "
    "In 2023 the bottleneck was accelerators; buyers queued for H100s and paid whatever brokers asked. "
    "In 2024 it was advanced packaging, as CoWoS capacity at TSMC lagged demand. "
    "Now the binding constraint is electricity. Utilities in Virginia, Georgia and Texas report "
    "interconnection queues measured in years, and developers are signing gas turbine orders before they "
    "have tenants.\n\nThe economics follow. A 100 MW hall of GB200 racks costs roughly $4 billion to fit "
    "out, and most of that is servers. Operators who can energise sites in 2027 charge a premium, and "
    "neoclouds with powered shells are raising debt against signed contracts.\n\nWhat changes next year? "
    "Memory supply looks tight again, with HBM4 allocations already committed, and the next generation of "
    "racks will draw more than 200 kW each, pushing liquid cooling from option to requirement. Expect more "
    "behind-the-meter generation, more nuclear deals and more arguments before regulators about who pays "
    "for transmission. "
) * 2
RELEVANT.update(
    {
        "the-year-the-bottleneck-move": ("The year the bottleneck moved", _ANALYSIS),
        "quiet-winners-of-2026": (
            "Quiet winners of 2026",
            "Looking back at the year, one group outperformed: landlords with powered land. " + _ANALYSIS,
        ),
        "nebius-adds-finnish-capacity": (
            "Nebius adds Finnish capacity",
            "The company will expand its Mäntsälä site by 75 MW.",
        ),
        "equinix-to-build-240-mw-camp": ("Equinix to build 240 MW campus in Johor", ""),
        "softbank-openai-form-sb-open": (
            "SoftBank, OpenAI form SB OpenAI Japan",
            "The venture will deploy enterprise AI and build data centers in Japan.",
        ),
        "nvidia-h20-sales-to-china-re": (
            "Nvidia H20 sales to China resume after licence approvals",
            "The Commerce Department granted licences in recent weeks.",
        ),
        "oracle-signs-30-billion-clou": (
            "Oracle signs $30 billion cloud deal",
            "The contract, starting in fiscal 2028, is for compute capacity, the company said in a filing.",
        ),
        "ki-boom-stromkonzern-baut-ga": (
            "KI-Boom: Stromkonzern baut Gaskraftwerk für Rechenzentren",
            "Das Kraftwerk soll 800 Megawatt liefern.",
        ),
        "microsoft-firma-acuerdo-para": (
            "Microsoft firma acuerdo para comprar energía nuclear para sus centros de datos",
            "El acuerdo cubre 20 años.",
        ),
        "l-tat-acc-l-re-le-raccordeme": (
            "L'État accélère le raccordement des centres de données au réseau",
            "Les projets d'IA pourront obtenir une connexion en 18 mois.",
        ),
        "cowos": ("台积电CoWoS产能明年翻倍", "英伟达和AMD的订单推动先进封装扩产。"),
        "sk-hbm": ("SK하이닉스, 엔비디아에 HBM 공급 확대", "AI 서버용 메모리 수요가 급증했다."),
        "2030": ("データセンター向け電力、2030年に倍増へ", "生成AIの普及で、国内の電力需要が増える見通し。"),
        "intl-13": (
            "إنفيديا توقع صفقة لتزويد مركز بيانات في الإمارات بالرقائق",
            "سيضم المركز آلاف المعالجات الرسومية.",
        ),
        "intel-delays-ohio-fab-to-203": (
            "Intel delays Ohio fab to 2030",
            "The chipmaker said the first factory will not be complete until the end of the decade.",
        ),
        "google-signs-deal-for-kairos": (
            "Google signs deal for Kairos small modular reactors",
            "The reactors will supply 500 MW to the company's facilities starting in 2030.",
        ),
        "amkor-to-build-2-billion-pac": (
            "Amkor to build $2 billion packaging plant in Arizona",
            "The facility will package chips made by TSMC for Apple and Nvidia.",
        ),
        "chinese-customs-crack-down-o": (
            "Chinese customs crack down on Nvidia chip smuggling",
            "Authorities said they seized servers containing restricted GPUs.",
        ),
    }
)
IRRELEVANT.update(
    {
        "nvidia-s-shield-tv-gets-an-u": (
            "Nvidia's Shield TV gets an update",
            "The streaming box adds new codecs.",
        ),
        "review-the-best-budget-graph": (
            "Review: the best budget graphics cards for 1080p gaming",
            "We tested seven cards at 1080p; the cheapest that holds 60 fps is the RX 7600.",
        ),
        "data-center-reit-declares-qu": (
            "Data center REIT declares quarterly dividend",
            "The board declared a dividend of $1.22 per share payable next month.",
        ),
    }
)


# Hard negatives in other languages.
IRRELEVANT.update(
    {
        "de-gpu-test": (
            "Test: Die RTX 5090 im Benchmark",
            "Die neue Grafikkarte schafft in Spielen mit Raytracing deutlich mehr FPS.",
        ),
        "zh-gpu-review": ("RTX 5090评测：游戏显卡之王", "在4K游戏中帧率大幅提升，光追性能更强。"),
        "zh-car-chips": ("车企因汽车芯片短缺减产", "多家车企表示，芯片供应紧张影响生产。"),
    }
)
RELEVANT.update({"ja-gpu-brief": ("エヌビディア、新型GPUを発表", "データセンター向け。")})


# Market-value milestones, consumer chips and miners' results versus real infrastructure news.
RELEVANT.update(
    {
        "nvidia-s-data-center-revenue": (
            "Nvidia's data center revenue rises 66%",
            "Revenue from data center chips reached $39 billion in the quarter.",
        ),
        "hut-8-signs-15-year-lease-fo": (
            "Hut 8 signs 15-year lease for 245 MW AI data center in Louisiana",
            "The former bitcoin miner will host GPUs for an AI cloud tenant.",
        ),
    }
)
IRRELEVANT.update(
    {
        "nvidia-becomes-first-company": (
            "Nvidia becomes first company worth $5 trillion",
            "Shares rose 3% on Wednesday, lifting the chipmaker's market value past the milestone.",
        ),
        "nvidia-aktie-erreicht-rekord": (
            "Nvidia-Aktie erreicht Rekordhoch",
            "Der Börsenwert des Chipkonzerns liegt nun bei über vier Billionen Dollar. Anleger setzen auf "
            "weiteres Wachstum.",
        ),
        "zh-market-cap": ("英伟达市值突破5万亿美元", "英伟达股价周三上涨3%，市值创历史新高。"),
        "nvidia-s-drive-thor-chip-pow": (
            "Nvidia's Drive Thor chip powers new self-driving cars",
            "The automaker said its next electric vehicles will use the Nvidia chip for driver assistance.",
        ),
        "nvidia-launches-rtx-5050-for": (
            "Nvidia launches RTX 5050 for budget gamers",
            "The graphics card costs $249 and targets 1080p gaming.",
        ),
        "chatgpt-now-uses-gpt-5-for-a": (
            "ChatGPT now uses GPT-5 for all users",
            "OpenAI said free users will get the new model with usage limits.",
        ),
        "samsung-s-next-galaxy-will-u": (
            "Samsung's next Galaxy will use a 2nm Exynos chip",
            "The phone maker will build the processor in its own foundry, reports say.",
        ),
        "week-ahead-nvidia-earnings-f": (
            "Week ahead: Nvidia earnings, Fed minutes and retail sales",
            "Wall Street will watch the chipmaker's results on Wednesday, while the Fed minutes and retail "
            "sales data could move Treasury yields.",
        ),
        "bitcoin-miner-hut-8-posts-re": (
            "Bitcoin miner Hut 8 posts record revenue as bitcoin climbs",
            "The company mined 500 bitcoin in the quarter; it also said it is exploring AI hosting at one "
            "site.",
        ),
        "smartwatch-with-ai-chip-trac": (
            "Smartwatch with AI chip tracks sleep",
            "The wearable's on-device AI estimates sleep stages.",
        ),
    }
)


# Export rules and supercomputers outside AI infrastructure.
IRRELEVANT.update(
    {
        "rice-export-ban": (
            "India extends rice export ban",
            "The government said the curbs on non-basmati rice will stay until prices fall.",
        ),
        "drone-export-controls": (
            "EU tightens export controls on drone parts to Russia",
            "The new sanctions package adds 40 companies to the list of restricted entities.",
        ),
        "weather-supercomputer": (
            "Weather agency unveils new supercomputer",
            "The machine will run higher-resolution forecast models from next year.",
        ),
    }
)
RELEVANT.update(
    {
        "tool-export-controls": (
            "US expands export controls on chipmaking tools to China",
            "The rule restricts shipments of etching equipment.",
        )
    }
)


# Languages beyond the core eight.
RELEVANT.update(
    {
        "russian": (
            "Яндекс строит новый ЦОД для ИИ",
            "Мощность центра обработки данных составит 40 мегаватт.",
        ),
        "italian": (
            "Microsoft investe 4 miliardi in centri dati in Italia",
            "Il piano sostiene l'intelligenza artificiale.",
        ),
        "turkish": ("Türkiye'de yeni yapay zeka veri merkezi", "Nvidia çipleri kullanılacak."),
    }
)


# Two infrastructure families vouch for each other without any AI word.
RELEVANT.update(
    {
        "dutch-tool-controls": (
            "Dutch government widens export licence list to wafer inspection tools",
            "The national export controls now cover equipment used to make advanced memory chips.",
        )
    }
)


# Capex stories told through the market: the spending is infrastructure.
RELEVANT.update(
    {
        "capex-doubts": (
            "Investors start to question the AI spending spree",
            "Shares of the biggest tech companies fell on Wall Street this week as investors questioned "
            "whether hundreds of billions in capital spending will pay off. The S&P 500 slipped 1.2%.\n\n"
            "Microsoft, Alphabet, Amazon and Meta are on track to spend more than $400 billion this year, "
            "most of it on data centers, servers and Nvidia GPUs.",
        )
    }
)


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def _art(key: str, title: str, text: str) -> Article:
    return Article(id=key, title=title, text=text)


@pytest.mark.parametrize("key", sorted(RELEVANT))
def test_relevant_articles(key: str, vocab: Vocabulary) -> None:
    result = triage(_art(key, *RELEVANT[key]), vocab)
    assert result.relevant, result.explanation
    assert 0.5 <= result.relevance <= 1.0
    assert result.topics


@pytest.mark.parametrize("key", sorted(IRRELEVANT))
def test_irrelevant_articles(key: str, vocab: Vocabulary) -> None:
    result = triage(_art(key, *IRRELEVANT[key]), vocab)
    assert not result.relevant, result.explanation
    assert 0.0 <= result.relevance < 0.5
    assert result.topics == ()
    assert result.importance <= 25


def test_title_weighs_more_than_a_passing_mention(vocab: Vocabulary) -> None:
    filler = "The city council met on Monday to discuss parking fees and a new library. " * 10
    about = triage(_art("a", "Nvidia ships H200 accelerators to data centers", filler), vocab)
    passing = triage(
        _art("b", "Council discusses parking fees", filler + "An Nvidia H200 was mentioned."), vocab
    )
    assert about.relevance > passing.relevance
    assert not passing.relevant


def test_topics_and_typed_entities(vocab: Vocabulary) -> None:
    result = triage(_art("x", *RELEVANT["export-rule"]), vocab)
    assert result.topics[0] == "export-controls"
    types = {e.name: e.type for e in result.entities}
    assert types["BIS"] == "regulator"
    assert types["China"] == "place"
    deal = triage(_art("y", *RELEVANT["lab-compute-deal"]), vocab)
    assert {"Mistral AI": "organization", "Grace Blackwell": "product"}.items() <= {
        e.name: e.type for e in deal.entities
    }.items()


def test_quantities_from_the_brief() -> None:
    found = {
        (e.type, e.value, e.unit, e.name)
        for e in find_quantities(
            "It holds 50,000 Nvidia H100 GPUs, draws 1.2 GW plus 300 megawatts, raised $10 billion and "
            "US$2.5bn, borrowed €5bn and ¥1 trillion."
        )
    }
    assert ("gpu_count", 50000.0, "gpus", "50,000 GPUs") in found
    assert ("power", 1200.0, "mw", "1.2 GW") in found
    assert ("power", 300.0, "mw", "300 MW") in found
    assert ("money", 1e10, "usd", "$10B") in found
    assert ("money", 2.5e9, "usd", "$2.5B") in found
    assert ("money", 5e9, "eur", "€5B") in found
    assert ("money", 1e12, "jpy", "¥1T") in found


def test_quantities_ignore_years_small_counts_and_energy() -> None:
    assert find_quantities("In 2025 Nvidia GPUs sold out; each server has 8 GPUs; a 500 MWh battery.") == []


def test_quantities_appear_as_entities(vocab: Vocabulary) -> None:
    result = triage(_art("q", *RELEVANT["utility-power"]), vocab)
    power = [e for e in result.entities if e.type == "power"]
    assert power and power[0].value == 1200.0 and power[0].unit == "mw"


def test_importance_follows_evidence(vocab: Vocabulary) -> None:
    big = triage(
        _art(
            "big",
            "U.S. bans exports of Nvidia Blackwell chips to China, first such curb on 50,000-GPU orders",
            "The Commerce Department's Bureau of Industry and Security said the export ban covers "
            "orders of 50,000 GPUs placed by Chinese cloud providers and a $10 billion backlog.",
        ),
        vocab,
    )
    small = triage(_art("small", *RELEVANT["short-brief"]), vocab)
    assert big.importance > small.importance
    assert big.importance >= 70
    for evidence in ("export-control action", "50,000 GPUs", "Nvidia", "$10B"):
        assert evidence in big.explanation


def test_explanation_names_relevance_topics_and_importance(vocab: Vocabulary) -> None:
    result = triage(_art("e", *RELEVANT["export-rule"]), vocab)
    text = result.explanation
    assert text.startswith(f"relevant {result.relevance:.2f}:")
    assert "AI-infra terms" in text and "export controls" in text
    assert "topics export-controls" in text
    assert f"importance {result.importance}" in text
    negative = triage(_art("g", *IRRELEVANT["gaming-review"]), vocab)
    assert negative.explanation.startswith("not relevant")
    assert "gaming context" in negative.explanation


def test_triage_is_deterministic_and_total(vocab: Vocabulary) -> None:
    article = _art("d", *RELEVANT["hbm-supply"])
    assert triage(article, vocab) == triage(article, vocab)
    empty = triage(_art("empty", "", ""), vocab)
    assert isinstance(empty, Triage) and not empty.relevant and empty.entities == ()


def test_story_importance_adds_coverage_and_novelty() -> None:
    value, why = story_importance(60, outlets=3, novelty=0.5)
    assert value == 60 + 10 + 4
    assert "3 outlets" in why and "novelty 0.50" in why
    assert story_importance(95, outlets=10, novelty=1.0)[0] == 100
    assert story_importance(40, outlets=1, novelty=0.0) == (40, "1 outlet, novelty 0.00 (+0)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.000 millones de dólares", ("money", 1e10, "usd")),
        ("US$ 4,8 bilhões", ("money", 4.8e9, "usd")),
        ("1,4 Milliarden Dollar", ("money", 1.4e9, "usd")),
        ("700 millions de dollars", ("money", 7e8, "usd")),
        ("100亿美元", ("money", 1e10, "usd")),
        ("300億円", ("money", 3e10, "jpy")),
        # Amounts written in parts: every part counts.
        ("総事業費は約6億1200万ドル", ("money", 6.12e8, "usd")),
        ("1억 2000만 달러", ("money", 1.2e8, "usd")),
        ("1兆2000億5000万円", ("money", 1.20005e12, "jpy")),
        ("34万5000キロワット", ("power", 345.0, "mw")),
        ("ein Campus mit 1.200 MW", ("power", 1200.0, "mw")),  # thousands grouped with a dot
        ("1,1 milyar dolar", ("money", 1.1e9, "usd")),  # Turkish
        ("senilai 300 juta dolar", ("money", 3e8, "usd")),
        ("un campus de 1,2 gigavatios", ("power", 1200.0, "mw")),
        ("4,8 GW", ("power", 4800.0, "mw")),
        ("部署1万块GPU", ("gpu_count", 10000.0, "gpus")),
        ("50.000 GPUs", ("gpu_count", 50000.0, "gpus")),
        ("bolaget tar in 420 miljoner dollar", ("money", 4.2e8, "usd")),
        ("inwestycja o wartości 19 mld euro", ("money", 1.9e10, "eur")),
        ("un round da 2,5 miliardi di dollari", ("money", 2.5e9, "usd")),
        ("een investering van 3 miljard euro", ("money", 3e9, "eur")),
    ],
)
def test_quantities_in_other_languages(text: str, expected: tuple[str, float, str]) -> None:
    assert expected in {(e.type, e.value, e.unit) for e in find_quantities(text)}


def test_quantities_reject_malformed_numbers() -> None:
    assert find_quantities("Version 12,34 GPUs and X$5 billion") == []


def test_wire_headline_in_capitals_finds_case_sensitive_names(vocab: Vocabulary) -> None:
    result = triage(
        _art(
            "caps",
            "NVIDIA TO INVEST $5 BLN IN INTEL, MICRON EXPANDS HBM",
            "They will co-develop data center parts.",
        ),
        vocab,
    )
    names = {e.name for e in result.entities}
    assert {"Nvidia", "Intel", "Micron", "$5B"} <= names
    assert result.relevant


def test_a_large_deal_between_infrastructure_companies_is_relevant_alone(vocab: Vocabulary) -> None:
    deal = triage(_art("deal", "Nvidia to invest $5 billion in Intel", ""), vocab)
    assert deal.relevant and "deal figures $5B" in deal.explanation
    assert "funding-deals" in deal.topics
    for title in (
        "Bank fined $2 billion over compliance failures",
        "Nvidia CEO donates $50 million to his university",
    ):
        assert not triage(_art("x", title, ""), vocab).relevant


def test_entity_list_additions_are_export_control_news(vocab: Vocabulary) -> None:
    result = triage(
        _art(
            "el", "U.S. adds 23 Chinese companies to the Entity List", "The additions take effect on Friday."
        ),
        vocab,
    )
    assert result.relevant
    assert "export-controls" in result.topics


# Consumer electronics, sport, trade and pharma deals: generic chip/AI words or one passing mention of a
# data center inside another subject.
CONTEXT_NEGATIVES = {
    "home-robot-npu": (
        "Lawn robot gets an 'AI chip' that tells hedgehogs from hoses",
        "The garden-gear maker's new robot vacuum for patios and its lawn robot share an NPU rated at "
        "4 TOPS, which runs object recognition on board. The home appliance line goes on sale in May.",
    ),
    "car-central-computer": (
        "Carmaker shows an 'AI supercomputer' that will drive its next SUVs",
        "The liquid-cooled central computer pairs two chips for 1,000 TOPS of AI compute and replaces "
        "dozens of control units. Its computing power runs a large language model assistant on board "
        "instead of in the cloud, takes over-the-air updates and allows eyes-off driving on motorways.",
    ),
    "tv-engine": (
        "New television range gets an AI picture engine",
        "The TV maker says the processor inside its OLED sets uses a neural network on the chip to sharpen "
        "streamed video and clean up low-resolution sport broadcasts.",
    ),
    "console-gpu": (
        "Next home console to pair a custom GPU with AI upscaling",
        "The console maker says games will run with ray tracing at 4K, and a machine-learning block on the "
        "chip reconstructs frames. The PS6 successor arrives in 2027.",
    ),
    "laptop-npu": (
        "Thin laptop line adds an NPU for on-device AI",
        "The PC maker's new ultrabook runs AI features locally on its chip and promises 20 hours of battery "
        "life; prices start at $1,299.",
    ),
    "phone-chip-zh": (
        "新一代旗舰手机芯片亮相，端侧AI更快",
        "这款手机芯片采用3纳米工艺，NPU性能提升，可在手机上本地运行大模型。",
    ),
    "cycling-sponsor": (
        "Cycling team signs a data-center firm as title sponsor",
        "The squad will wear the new colours from the season opener in February. Its coach said the riders "
        "spent the winter at altitude and the championship remains the goal.",
    ),
    "solar-duties": (
        "Commerce Department raises duties on imported solar modules",
        "The Commerce Department set tariffs of up to 200% on panels from Vietnam and Malaysia after a "
        "complaint by domestic manufacturers.",
    ),
    "football-blackwell": (
        "Blackwell Town edge Titans after a stoppage-time winner",
        "Blackwell Town came from behind to beat the league leaders 2-1. The striker headed in at the far "
        "post in stoppage time after a half-time change of shape; the quarter-final is next month.",
    ),
    "film-supercomputer": (
        "'Overclock' review: a thriller about a supercomputer that runs the grid",
        "The film, starring a former hacker played by a newcomer, imagines a data center whose AI takes over "
        "a city's power grid. The production design is glossy; the script is not. Two stars.",
    ),
    "laptop-review-ja": (
        "薄型ノートPCレビュー：AI処理用NPUの実力",
        "新しいノートPCを1週間使ってみた。NPUで字幕生成や背景ぼかしを処理する。バッテリー持ちは約15時間、価格は税込20万円。",
    ),
    "pharma-ai-pact": (
        "Pharma group pays up to $900 million in AI drug-discovery partnership",
        "The drugmaker will use the start-up's AI models to propose candidate molecules for two targets.",
    ),
    # Thousands of GPUs in a gaming, crypto or retail context stay in that context.
    "esports-rigs": (
        "Esports final draws record crowd",
        "The arena installed 1,200 GPUs in gaming rigs for the tournament, and the final drew 20,000 fans. "
        "The winning team took home $2 million.",
    ),
    "miner-selloff": (
        "Ethereum miners sell off rigs",
        "After the switch to proof of stake, one crypto miner is selling 5,000 GPUs it used to mine ether "
        "at a steep discount.",
    ),
    "retail-cards": (
        "Retailer restocks graphics cards",
        "The electronics chain said it will have 3,000 GPUs in stores for the holiday, mostly RTX 5070 cards "
        "for gamers building PCs.",
    ),
    # A phone review in Spanish whose only consumer words are battery and camera terms.
    "es-phone": (
        "Lumo presenta el P7, con 'chip de IA' para editar fotos",
        "La marca Lumo lanzó este martes en Barcelona su nuevo móvil P7, que costará 749 euros. Su 'chip "
        "de IA' propio, una unidad neuronal integrada, permite borrar objetos de las fotos y traducir "
        "llamadas sin conexión. La batería de 4.800 mAh aguanta un día y medio; la cámara principal brilla "
        "de día y flojea de noche.",
    ),
}


# AI infrastructure told in languages the vocabulary covers beyond the large ones.
NORDIC_AND_CENTRAL_EUROPEAN = {
    "sv-gpu-cloud-round": (
        "GPU-molnet Norrsken Compute tar in 300 miljoner dollar",
        "Bolaget bygger ut sitt datacenter i Umeå och köper 10 000 grafikprocessorer från Nvidia. "
        "Finansieringsrundan leds av en pensionsfond; kapaciteten ska öka till 80 megawatt.",
    ),
    "pl-ai-gigafactory": (
        "Gigafabryka sztucznej inteligencji powstanie pod Krakowem",
        "Konsorcjum ma zbudować centrum danych z 50 tys. akceleratorów AI i przyłączem 400 MW. "
        "Wartość inwestycji to 6 mld euro.",
    ),
}


def test_an_ambiguous_product_name_needs_other_infrastructure_evidence(vocab: Vocabulary) -> None:
    horse = triage(
        _art(
            "race",
            "Gaudi wins the autumn handicap by two lengths",
            "Gaudi, ridden by the champion jockey, led from the final furlong; the trainer said the "
            "four-year-old will be aimed at the spring cup.",
        ),
        vocab,
    )
    assert not horse.relevant and "Gaudi" not in {e.name for e in horse.entities}, horse.explanation
    cluster = triage(
        _art(
            "cluster",
            "University installs a Gaudi cluster for model training",
            "The 512-accelerator system joins the campus's GPU partition and a new 2 MW data hall.",
        ),
        vocab,
    )
    assert cluster.relevant and "Gaudi" in {e.name for e in cluster.entities}, cluster.explanation
    # An unambiguous alias needs no corroboration.
    alias = triage(_art("alias", "Intel Gaudi 3 ships", "Intel Gaudi 3 is now available."), vocab)
    assert "Gaudi 3" in {e.name for e in alias.entities} or "Gaudi" in {e.name for e in alias.entities}


def test_a_data_center_of_hundreds_of_megawatts_is_ai_scale_without_the_word_ai(vocab: Vocabulary) -> None:
    campus = triage(
        _art(
            "permit",
            "State grants water permit for Red Butte campus",
            "The permit covers the developer's planned data center, designed for 450 megawatts of IT load, "
            "and caps groundwater withdrawals at 1,200 acre-feet a year.",
        ),
        vocab,
    )
    assert campus.relevant and "datacenter" in campus.topics, campus.explanation
    small = triage(
        _art(
            "small",
            "State grants water permit for Red Butte campus",
            "The permit covers the developer's planned data center, designed for 12 megawatts of IT load, "
            "and caps groundwater withdrawals at 40 acre-feet a year.",
        ),
        vocab,
    )
    assert campus.relevance > small.relevance
    solar = triage(
        _art(
            "solar",
            "County approves 450 MW solar farm",
            "The solar project will cover 2,000 acres and sell power to the regional utility.",
        ),
        vocab,
    )
    assert not solar.relevant, solar.explanation


# Infrastructure news in more languages and trades: Hindi GPU programmes, French co-packaged optics,
# German transformer makers.
MORE_LANGUAGES = {
    "hi-gpu-tender": (
        "सरकारी निविदा में 10,000 जीपीयू जोड़े गए",
        "मिशन के तहत कंपनियों ने 10,000 जीपीयू उपलब्ध कराने की पेशकश की है; स्टार्टअप्स को "
        "एआई कंप्यूटिंग सस्ती दरों पर मिलेगी।",
    ),
    "fr-cpo-order": (
        "Optique co-packagée : un fournisseur décroche une commande géante",
        "Le fabricant livrera des moteurs d'optique co-packagée à un grand opérateur de cloud pour ses "
        "grappes de GPU ; le contrat dépasse 800 millions de dollars.",
    ),
    "de-transformer-plant": (
        "Neues Werk für Großtransformatoren",
        "Der Hersteller baut die Fertigung von Großtransformatoren aus: Netzbetreiber erweitern die "
        "Übertragungsnetze, und KI-Firmen brauchen eigene Umspannwerke.",
    ),
}


@pytest.mark.parametrize("key", sorted(MORE_LANGUAGES))
def test_infrastructure_news_in_hindi_french_and_german_trades(key: str, vocab: Vocabulary) -> None:
    result = triage(_art(key, *MORE_LANGUAGES[key]), vocab)
    assert result.relevant, result.explanation


@pytest.mark.parametrize("key", sorted(NORDIC_AND_CENTRAL_EUROPEAN))
def test_infrastructure_news_in_swedish_and_polish_is_relevant(key: str, vocab: Vocabulary) -> None:
    result = triage(_art(key, *NORDIC_AND_CENTRAL_EUROPEAN[key]), vocab)
    assert result.relevant, result.explanation
    assert any(e.type == "money" for e in result.entities), result.entities


@pytest.mark.parametrize("key", sorted(CONTEXT_NEGATIVES))
def test_context_negatives_are_not_relevant(key: str, vocab: Vocabulary) -> None:
    result = triage(_art(key, *CONTEXT_NEGATIVES[key]), vocab)
    assert not result.relevant, result.explanation
    assert result.topics == ()


def test_a_large_sum_next_to_ai_words_alone_is_not_an_infrastructure_deal(vocab: Vocabulary) -> None:
    result = triage(_art("p", *CONTEXT_NEGATIVES["pharma-ai-pact"]), vocab)
    assert result.relevance < 0.3, result.explanation
    with_infra = triage(
        _art("q", "Lab pays up to $900 million for AI data center capacity", "The GPUs come online in 2026."),
        vocab,
    )
    assert with_infra.relevant and "funding-deals" in with_infra.topics


def test_weak_words_of_two_families_do_not_vouch_for_each_other(vocab: Vocabulary) -> None:
    # "tariffs" (supply chain) and "solar" (energy) are not an infrastructure story; "Commerce
    # Department" is not the export regulator and the countries named are not export controls.
    result = triage(_art("s", *CONTEXT_NEGATIVES["solar-duties"]), vocab)
    assert not result.relevant, result.explanation
    names = {e.name for e in result.entities}
    assert "Commerce Department" in names and "BIS" not in names


def test_evidence_without_a_topic_is_not_relevant(vocab: Vocabulary) -> None:
    # Scattered weak words (a player, a cloud, some power) add up to no topic.
    result = triage(
        _art(
            "t",
            "Oracle founder's yacht gets solar power and cloud backups",
            "The boat's energy system and cloud storage were upgraded this winter, Oracle's founder said.",
        ),
        vocab,
    )
    assert not result.relevant, result.explanation
    assert result.topics == ()


def test_commerce_rule_on_computing_clusters_is_export_control_policy(vocab: Vocabulary) -> None:
    result = triage(
        _art(
            "c",
            "Commerce rule makes owners of large AI computing clusters report them",
            "Under the final rule, operators of clusters above 100,000 accelerators must report locations, "
            "owners and foreign customers each quarter to the Commerce Department.",
        ),
        vocab,
    )
    assert result.relevant, result.explanation
    assert {"policy", "export-controls"} <= set(result.topics)


def test_export_licence_in_dutch_is_an_export_control_story(vocab: Vocabulary) -> None:
    result = triage(
        _art(
            "nl",
            "Kabinet breidt exportvergunning uit naar oudere chipmachines",
            "Voor lithografiesystemen naar China geldt voortaan een vergunningplicht, zodat de chips voor AI "
            "niet zonder toestemming worden gemaakt.",
        ),
        vocab,
    )
    assert result.relevant, result.explanation
    assert "export-controls" in result.topics


def test_entity_list_rule_with_review_committee_has_no_gaming_context(vocab: Vocabulary) -> None:
    result = triage(
        _art(
            "eu",
            "End-User Review Committee adds three cloud operators to the Entity List",
            "The Bureau of Industry and Security said the firms gave restricted parties access to advanced "
            "computing; exports to them now need a licence.",
        ),
        vocab,
    )
    assert result.relevant
    assert "gaming" not in result.explanation


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Cooling start-up raises $60 million Series B for AI data centers",
            "The round was led by two funds.",
        ),
        (
            "GPU designer files for Hong Kong IPO",
            "The chipmaker sells AI accelerators to Chinese data centers.",
        ),
        (
            "AI-Chipentwickler plant Börsengang in Frankfurt",
            "Das Unternehmen liefert KI-Chips für Rechenzentren.",
        ),
    ],
)
def test_rounds_and_listings_are_funding_deals(title: str, text: str, vocab: Vocabulary) -> None:
    result = triage(_art("f", title, text), vocab)
    assert result.relevant, result.explanation
    assert "funding-deals" in result.topics


def test_countries_alone_do_not_make_export_controls(vocab: Vocabulary) -> None:
    result = triage(
        _art(
            "my",
            "Operator opens 200 MW data center campus in Malaysia",
            "The Johor site will host GPU clusters for cloud customers from Singapore, China and Vietnam.",
        ),
        vocab,
    )
    assert result.relevant
    assert "export-controls" not in result.topics


def test_entities_name_the_version_the_text_says(vocab: Vocabulary) -> None:
    result = triage(
        _art(
            "v",
            "AWS puts Trainium 3 into service as xAI adds GB300 racks",
            "The cloud's third-generation chip joins Nvidia GB300 NVL72 systems in the lab's data center.",
        ),
        vocab,
    )
    names = {e.name for e in result.entities}
    assert {"Trainium3", "GB300"} <= names
    assert not {"Trainium2", "GB200"} & names
    assert "Trainium2" not in result.explanation and "GB200" not in result.explanation


def test_a_capex_range_keeps_both_ends(vocab: Vocabulary) -> None:
    result = triage(
        _art("r", "Cloud giant lifts data center capex to $175-185B", "Servers and GPUs take most of it."),
        vocab,
    )
    money = {e.name for e in result.entities if e.type == "money"}
    assert {"$175B", "$185B"} <= money


def test_negative_words_do_not_sink_infrastructure_stories(vocab: Vocabulary) -> None:
    # A drug maker's GPU supercomputer is infrastructure; a cloud "management console" is not gaming.
    for title, text in (
        (
            "Drugmaker builds AI factory with 1,000 Nvidia Blackwell GPUs for drug discovery",
            "The supercomputer will train models on trial data in the company's own data center.",
        ),
        (
            "Cloud provider adds H100 capacity view to its management console",
            "Customers can now reserve GPU capacity for AI training from the web console.",
        ),
    ):
        result = triage(_art("n", title, text), vocab)
        assert result.relevant, result.explanation
        assert "gaming" not in result.explanation


def test_a_computing_cluster_without_ai_is_not_ai_infrastructure(vocab: Vocabulary) -> None:
    result = triage(
        _art(
            "hpc",
            "University opens new computing cluster for climate research",
            "The machine will run weather and ocean models for scientists.",
        ),
        vocab,
    )
    assert not result.relevant, result.explanation


def test_a_body_naming_many_infrastructure_terms_is_relevant_whatever_its_title(vocab: Vocabulary) -> None:
    # A show transcript: the title names nothing, the lead is small talk, and the talk in the
    # middle is all racks, memory and accelerators (a long text, so the body score alone is diluted:
    # the number of distinct strong terms carries it).
    chatter = "HOST: Welcome back, and thanks to all who wrote in after last week. We have a packed show. "
    outro = "HOST: That's all for today; see you next week. We will be back with more listener questions. "
    chatter, outro = chatter * 12, outro * 12
    talk = (
        "GUEST: The new NVL72 racks pull about 130 kW each, and the next generation doubles the HBM "
        "per accelerator. HOST: So liquid cooling is no longer optional? GUEST: Not at that density. "
        "Every GB200 cluster we toured had direct-to-chip cooling and the operators were asking about "
        "800-volt DC distribution. HOST: And memory? GUEST: HBM4 supply is sold out through next year, "
        "and the TPU customers are competing for the same packaging capacity at TSMC. "
    )
    result = triage(_art("show", "Episode 212: a conversation from the road", chatter + talk + outro), vocab)
    assert result.relevant, result.explanation
    assert {"chips", "datacenter"} & set(result.topics)
    # One passing mention in the same chatter is still not enough.
    aside = "GUEST: I finally bought a GB200-powered laptop. "
    passing = triage(_art("show2", "Episode 213: listener mail", chatter + aside + outro), vocab)
    assert not passing.relevant, passing.explanation


def test_thousands_of_gpus_are_an_ai_fleet_without_the_word_ai(vocab: Vocabulary) -> None:
    fleet = triage(
        _art(
            "fleet",
            "Pension fund's new cloud company opens for business",
            "The state pension fund has launched a cloud company that rents computing time to universities, "
            "start-ups and ministries. Its first hall, in a leased building near the port, holds 8,192 GPUs "
            "and takes its first customers in March. The fund put in $600 million for a 75% stake.",
        ),
        vocab,
    )
    assert fleet.relevant, fleet.explanation
    assert "8,192 GPUs" in fleet.explanation
    # A couple of graphics cards are not a fleet.
    pair = triage(
        _art(
            "pair",
            "Pension fund's new office opens for business",
            "The state pension fund opened a new office near the port. The design studio on the second floor "
            "got two GPUs for its rendering work, and the fund put in $600 million for a 75% stake in a port "
            "operator.",
        ),
        vocab,
    )
    assert not pair.relevant, pair.explanation


def test_a_phone_review_in_spanish_with_an_ai_chip_is_not_infrastructure(vocab: Vocabulary) -> None:
    review = triage(_art("es-phone", *CONTEXT_NEGATIVES["es-phone"]), vocab)
    assert not review.relevant, review.explanation
    assert "mAh" in review.explanation


def test_a_report_of_a_relevant_story_is_relevant_and_says_so(vocab: Vocabulary) -> None:
    # A local paper's angle on a coolant plant: no AI-infrastructure words of its own.
    local = Article(
        id="local",
        title="Tertre plant to add 120 jobs",
        text="Fluorent will spend 240 million euros on its Tertre plant and hire 120 people, said the mayor.",
    )
    alone = triage(local, vocab)
    assert not alone.relevant and not alone.topics and alone.explanation.startswith("not relevant")
    joined = triage(local, vocab, same_event_as="Fluorent to triple immersion-fluid output")
    assert joined.relevant and joined.relevance == alone.relevance  # its own evidence, unchanged
    assert joined.explanation.startswith(
        "relevant as a report of the same event as the story 'Fluorent to triple immersion-fluid output'"
    )
    assert joined.entities == alone.entities


# Languages the vocabulary once had no word of, and negative contexts told outside English.
HEBREW_GREEK_THAI = {
    "he-datacenter-funding": (
        "חברת תשתיות גייסה 300 מיליון דולר להקמת מרכזי נתונים",
        "החברה תקים שני מרכזי נתונים עבור שרתי בינה מלאכותית ותרכוש אלפי מעבדים גרפיים.",
    ),
    "el-datacenter": (
        "Νέο κέντρο δεδομένων 200 MW στη Θεσσαλία",
        "Ο επενδυτής θα κατασκευάσει κέντρο δεδομένων για εφαρμογές τεχνητής νοημοσύνης, με χιλιάδες "
        "επεξεργαστές γραφικών.",
    ),
    "th-datacenter": (
        "ผู้ให้บริการคลาวด์ลงทุนศูนย์ข้อมูลใหม่ในชลบุรี",
        "ศูนย์ข้อมูลแห่งใหม่จะรองรับงานปัญญาประดิษฐ์ และติดตั้งจีพียูหลายพันตัว",
    ),
}
FOREIGN_NEGATIVES = {
    "it-football-metaphor": (
        "Il regista è il data center della squadra",
        "Il centrocampista ha completato 90 passaggi; l'allenatore lo chiama il server del campionato e i "
        "tifosi lo adorano dopo la trasferta vinta.",
    ),
    "es-football-metaphor": (
        "El mediocampista, el data center del equipo",
        "El entrenador elogió al futbolista: procesa el juego como un servidor. El delantero marcó dos "
        "goles y el equipo lidera el campeonato.",
    ),
    "zh-hant-phone-chip": (
        "新旗艦手機晶片登場 AI效能翻倍",
        "晶片廠發表新一代旗艦手機晶片，採台積電製程，內建NPU，可在手機端執行生成式AI，首款手機下月開賣。",
    ),
}


@pytest.mark.parametrize("key", sorted(HEBREW_GREEK_THAI))
def test_infrastructure_news_in_hebrew_greek_and_thai_is_relevant(key: str, vocab: Vocabulary) -> None:
    result = triage(_art(key, *HEBREW_GREEK_THAI[key]), vocab)
    assert result.relevant and "datacenter" in result.topics, result.explanation


@pytest.mark.parametrize("key", sorted(FOREIGN_NEGATIVES))
def test_sports_and_phones_outside_english_are_not_relevant(key: str, vocab: Vocabulary) -> None:
    result = triage(_art(key, *FOREIGN_NEGATIVES[key]), vocab)
    assert not result.relevant, result.explanation
