"""Clinical concepts as patterns in the patient's own words, in English, French,
Spanish and Chinese. Patterns run on folded text (lower case, no accents: see
normalize.fold), so "fièvre" and "fievre" both match ``fievre``.

A concept is found when one of its patterns matches in a clause and no negation
cue stands just before it ("no chest pain", "sans fièvre", "没有胸痛").
"""

from __future__ import annotations

import re

# Latin-script patterns are wrapped in word boundaries; CJK patterns match as substrings.
_LATIN: dict[str, list[str]] = {
    "chest_pain": [
        r"me duele (?:mucho )?el pecho",
        r"(?:mi|el) pecho (?:me )?duele",
        r"chest (?:pain|pains|pian|paine|ache|aching|pressure|tightness|tight|heaviness|heavy|discomfort|hurts?|hurting)",
        r"(?:pain|pressure|tightness|crushing|squeezing|heaviness|weight|heavy feeling|tight feeling|ache) "
        r"(?:in|on|across|over) (?:my |the |his |her )?chest",
        r"crushing (?:pain|feeling|sensation)", r"heart attack",
        r"douleurs? (?:a|dans|sur) (?:la |ma )?poitrine", r"douleurs? thoracique", r"mal (?:a|dans) la poitrine",
        r"oppression (?:thoracique|dans la poitrine)", r"serrement dans la poitrine", r"crise cardiaque",
        r"dolor (?:en el |de |del )?pecho", r"dolor toracico", r"opresion (?:en el )?pecho", r"ataque (?:al corazon|cardiaco)",
        r"infarto",
    ],
    "sweating": [
        r"sweat(?:ing|y|s|ed)?", r"sweatting", r"swetting", r"clammy", r"cold sweats?",
        r"(?:je )?sue", r"suant", r"sueurs?", r"transpir\w*", r"moite",
        r"sudor(?:acion)?", r"sudando", r"sudoroso",
    ],
    "cardiac_spread": [
        r"irradie (?:vers|dans) (?:le|la) (?:bras|machoire)",
        r"(?:me )?baja al brazo",
        r"irradia (?:al|hacia el) brazo",
        r"(?:spreading|radiating|going|moving|shooting|spreads|radiates|goes) (?:down |up |to |into |through )+"
        r"(?:my |the |your |his |her )?(?:left )?(?:arm|jaw|neck|back|shoulder)",
        r"(?:left )?arm (?:pain|ache|aching|numb|numbness|heavy)", r"jaw pain",
        r"bras gauche", r"machoire", r"brazo izquierdo", r"mandibula",
    ],
    "breathless": [
        r"me cuesta (?:mucho )?respirar",
        r"short(?:ness)? of breath", r"breathless", r"out of breath",
        r"(?:hard|difficult|difficulty|diffculty|trouble|struggling|struggle|problems?) (?:to )?breath(?:e|ing)",
        r"(?:hard|difficult) to catch (?:my )?breath", r"wheez(?:e|ing|y)",
        r"essouffle", r"(?:du )?mal a respirer", r"difficulte(?:s)? a respirer", r"souffle court",
        r"falta de (?:aire|aliento)", r"me falta el aire", r"dificultad (?:para|al) respirar", r"me cuesta respirar",
    ],
    "cannot_breathe": [
        r"(?:j'?)?arrive (?:pas|plus) a respirer",
        r"levres (?:toutes |sont )?bleues",
        r"(?:isn'?t|is not|not|stopped|stops) breathing",
        r"sucking in (?:under|between) (?:his|her|the|my) ribs",
        r"grunting",
        r"inhaler (?:is )?(?:not|isn'?t) (?:helping|working)",
        r"(?:used|taken|had) (?:my )?(?:blue )?inhaler (?:like )?\d+ times",
        r"can'?t (?:talk|speak) (?:in full sentences)?",
        r"can'?t breathe?", r"cant breath", r"cannot breathe?", r"unable to breathe", r"not able to breathe",
        r"gasping(?: for (?:air|breath))?", r"(?:lips|face) (?:are |is |turning |have gone |gone )?(?:blue|grey|gray)", r"choking",
        r"(?:je )?n'?arrive (?:pas|plus) a respirer", r"(?:je )?ne peux (?:pas|plus) respirer", r"j'?etouffe", r"etouffe",
        r"no puedo respirar", r"me ahogo", r"me estoy ahogando", r"labios azules",
    ],
    "stroke": [
        r"speech (?:is )?(?:all )?(?:jumbled|weird|strange|garbled)",
        r"can'?t get (?:my|the|his|her) words out",
        r"(?:sudden(?:ly)? )?(?:lost|loss of|losing) (?:the )?(?:vision|sight) in (?:my|one|his|her) (?:left |right )?eye",
        r"(?:half|one side of) (?:my|his|her) face (?:won'?t|can'?t|doesn'?t|does not|will not) move",
        r"(?:arm|leg) on the same side (?:is )?(?:weak|numb|heavy)",
        r"no puede(?:n)? mover el (?:brazo|la pierna)",
        r"habla (?:raro|arrastrando|mal de repente)",
        r"face (?:is |has )?(?:drooping|droopy|dropped|drooped|fallen)", r"droop\w* (?:face|mouth|smile|on one side)",
        r"(?:mouth|smile) (?:is )?(?:lopsided|crooked|drooping)", r"slurr(?:ed|ing)(?: (?:speech|words))?",
        r"speech (?:is )?(?:slurred|garbled)", r"can'?t (?:speak|talk|get (?:my|the) words out) properly",
        r"(?:one|left|right) side (?:of (?:my|his|her|the) (?:body|face) )?(?:is |has gone |went |feels )?"
        r"(?:weak|numb|paralys\w*|paralyz\w*|dead)",
        r"(?:weakness|numbness|paralysis) (?:on|in|of) (?:one|the left|the right|my left|my right) side",
        r"can'?t (?:move|lift|raise) (?:my |his |her )?(?:left |right )?(?:arm|leg)", r"stroke", r"mini[- ]stroke",
        r"visage (?:affaisse|de travers|paralyse)", r"bouche de travers", r"(?:difficulte|du mal) a parler",
        r"paralys\w* (?:d'un cote|du cote)", r"\bavc", r"attaque cerebrale",
        r"cara (?:caida|torcida|paralizada)", r"boca torcida", r"(?:dificultad|no puedo) (?:para )?hablar(?: bien)?",
        r"no puedo mover el (?:brazo|la pierna)", r"derrame cerebral", r"ictus", r"embolia",
    ],
    "airway_swelling": [
        r"se me (?:esta )?hinchando (?:la |el |los )?(?:cara|lengua|garganta|labios)",
        r"se me hincha(?:n)? (?:la |el |los )?(?:lengua|garganta|labios)",
        r"tongue (?:feels )?(?:huge|massive|thick|enormous)",
        r"(?:throat|tongue|lips?|mouth) (?:is |are |feels? |feel |keeps |started )?(?:swelling|swollen|swell(?:s|ing)? up|closing(?: up)?|tight)",
        r"swelling (?:of|in|on) (?:my |the |his |her )?(?:throat|tongue|lips?|face|mouth)", r"anaphyla\w*",
        r"(?:gorge|langue|levres?|visage) (?:qui )?(?:gonfle|gonflee?s?|enfle|enflee?s?|se ferme)",
        r"gonflement (?:de la |du |des )?(?:gorge|langue|levres|visage)", r"choc anaphylactique",
        r"(?:garganta|lengua|labios?|cara) (?:hinchad[ao]s?|se (?:me )?(?:cierra|hincha))", r"se me cierra la garganta",
        r"choque anafilactico", r"anafilaxia",
    ],
    "allergic": [
        r"pico una (?:abeja|avispa)",
        r"picadura",r"allerg\w*", r"hives", r"epipen", r"epi-pen", r"urticaire", r"urticaria", r"alergi\w*"],
    "allergic_reaction": [
        r"allergic reaction", r"hives", r"reaction allergique", r"urticaire", r"reaccion alergica", r"urticaria",
    ],
    "suicidal": [
        r"(?:don'?t|dont) (?:really )?want to (?:be here|live|be alive) anymore",
        r"goodbye (?:letters?|notes?)",
        r"(?:going|want|gonna) to (?:jump off|throw myself (?:off|in front of))",
        r"jump off (?:the|a) (?:bridge|building|roof)",
        r"plan to (?:end|kill)",
        r"kill(?:ing)? (?:myself|yourself)", r"suicid\w*", r"end(?:ing)? (?:my|your|it) (?:own )?(?:life|all)",
        r"end it all", r"end everything",
        r"take my (?:own )?life", r"want(?: ?to|na) die", r"wish i (?:was|were) dead", r"better off dead",
        r"no reason to (?:live|go on)", r"don'?t want to (?:live|be alive|wake up|be here anymore)",
        r"(?:me )?suicider", r"me tuer", r"en finir", r"mettre fin a (?:mes jours|ma vie)", r"envie de mourir",
        r"veux mourir", r"suicidarme", r"matarme", r"quitarme la vida", r"quiero morir(?:me)?", r"no quiero vivir",
        r"acabar con (?:mi vida|todo)",
    ],
    "self_harm": [
        r"self[- ]?harm\w*", r"(?:want|going|tempted|urge) to (?:hurt|harm|cut|burn) myself",
        r"(?:hurt|harm|cut|burn)(?:ing)? myself on purpose", r"(?:been|keep|started) (?:cutting|hurting|harming|burning) myself",
        r"me faire du mal", r"me mutiler", r"automutil\w*", r"hacerme dano", r"autolesion\w*", r"lastimarme",
    ],
    "overdose": [
        r"took (?:the |a )?whole (?:bottle|packet|pack|box)",
        r"swallowed (?:\w+ ){0,4}batter(?:y|ies)",
        r"(?:drank|swallowed|ate) (?:some |a bit of |the )?(?:bleach|poison|detergent|antifreeze|weed ?killer)",
        r"took \d{2,} (?:of )?(?:my |his |her )?\w+",
        r"carbon monoxide",
        r"(?:garage|room) with the (?:car|engine|generator) running",
        r"se tomo (?:unas|varias|muchas|todas las) pastillas",
        r"tomo (?:unas|varias|muchas) pastillas",
        r"overdos\w*(?! on (?:coffee|caffeine|sugar|chocolate|tv|netflix))", r"over dose", r"took (?:too many|a lot of|all (?:of )?(?:my|the)|a whole (?:bottle|packet|pack|box) of)",
        r"swallowed (?:bleach|poison|detergent|antifreeze|a battery|batteries|(?:a lot of|too many|all (?:my|the)) \w+)",
        r"drank (?:bleach|antifreeze|poison|weed ?killer)", r"poison(?:ed|ing)", r"ate (?:rat poison|poison)",
        r"surdose", r"trop de (?:comprimes|medicaments|cachets|pilules)", r"empoisonne\w*", r"intoxi\w*",
        r"avale de la javel", r"sobredosis", r"demasiadas (?:pastillas|pildoras)", r"envenen\w*", r"trague lejia",
        r"me tome todas las pastillas",
    ],
    "severe_bleeding": [
        r"stabbed",
        r"blood (?:is )?(?:pooling|gushing|pouring|spurting)",
        r"bone (?:is )?(?:sticking|poking) (?:out|through)",
        r"(?:hit by a car|car crash|gunshot|been shot)",
        r"bleeding (?:heavily|a lot|badly|profusely|non ?stop|everywhere|really bad)", r"bleeding (?:that )?won'?t stop",
        r"(?:heavy|severe|uncontrolled|massive|serious) bleeding", r"won'?t stop bleeding", r"can'?t stop (?:the )?bleeding",
        r"(?:vomiting|throwing up|puking) (?:up )?blood", r"blood everywhere", r"spurting blood",
        r"saign\w* (?:beaucoup|abondamment|sans arret)", r"saignement (?:abondant|important|qui ne s'arrete pas)",
        r"hemorragie", r"vomi\w* du sang", r"sangrado (?:abundante|fuerte|que no para)", r"sangr\w* mucho",
        r"hemorragia", r"vomit\w* sangre", r"no (?:para|deja) de sangrar",
    ],
    "stiff_neck": [
        r"neck (?:is )?(?:so |really |very )?stiff",
        r"can'?t (?:put|bend|touch|get) (?:my |his |her )?chin (?:on|to) (?:my |his |her )?chest",
        r"stiff neck", r"neck (?:is |feels )?(?:really |very )?stiff", r"can'?t (?:bend|move|touch) (?:my )?(?:neck|chin to (?:my )?chest)",
        r"nuque raide", r"raideur (?:de la )?nuque", r"cuello rigido", r"rigidez (?:de|en el) cuello",
    ],
    "non_blanching_rash": [
        r"rash (?:that )?(?:doesn'?t|does not|won'?t|didn'?t) (?:fade|go away) (?:under|when|with)",
        r"non[- ]?blanching", r"glass test", r"purple (?:spots|rash|blotches)", r"purpur\w*",
        r"taches (?:violettes|pourpres)", r"purpura", r"manchas (?:moradas|purpuras)",
    ],
    "fever": [
        r"temp(?:erature)? (?:of |is |was |at )?3[89](?:[.,]\d)?",
        r"thermometer (?:says|reads|shows) 3[89]",
        r"3[89][.,]\d",
        r"feels? (?:very |really )?hot",
        r"fever\w*", r"feverish", r"high temp(?:erature)?", r"temperature (?:of |is )?(?:3[89]|4[0-2]|10[0-6])",
        r"(?:3[89]|4[0-2])(?:[.,]\d)? ?(?:c|°c|degrees?|deg)", r"10[0-6](?:[.,]\d)? ?(?:f|°f)",
        r"fievre", r"de la temperature", r"fiebre", r"calentura",
    ],
    "infant": [
        r"\d{1,2} ?(?:weeks?|wks?)[- ]old",
        r"de \d{1,2} semaines",
        r"de \d{1,2} semanas",
        r"(?:under|less than) (?:3|three) months",
        r"(?:baby|newborn|infant|babies)", r"(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven) "
        r"(?:week|month|wk|mth)s?[- ]old", r"bebe", r"nourrisson", r"nouveau[- ]ne", r"recien nacido", r"lactante",
    ],
    "pregnant": [
        r"pregnan\w*", r"\d+ weeks? (?:pregnant|along|gestation)", r"expecting a baby", r"enceinte", r"grossesse",
        r"embarazad\w*", r"embarazo",
    ],
    "pregnancy_danger": [
        r"fainted",
        r"passed out",
        r"shoulder tip pain",
        r"pain in (?:my|her) shoulder tip",
        r"sharp pain (?:\w+ ){0,3}on one side",
        r"bleed\w*", r"spotting", r"(?:severe|bad|strong|sharp|terrible) (?:\w+ )?(?:abdominal|stomach|belly|tummy|pelvic) pain",
        r"waters? (?:have )?(?:broke|broken|gone)", r"baby (?:isn'?t|is not|has stopped|stopped|not) moving",
        r"(?:blurred|blurry) vision", r"seeing (?:spots|flashing lights)", r"seizure",
        r"saign\w*", r"pertes? de sang", r"douleur (?:abdominale |au ventre )?(?:intense|forte|violente)",
        r"sangr\w*", r"dolor (?:abdominal|de barriga|de vientre) (?:fuerte|intenso)",
    ],
    "thunderclap": [
        r"worst headache", r"thunderclap", r"(?:sudden|suddenly) (?:\w+ )?(?:severe|terrible|explosive|excruciating|agonising|agonizing) headache",
        r"headache (?:came on|started|hit me) (?:suddenly|out of nowhere|like a thunderclap)",
        r"(?:pire|plus violent) mal de tete", r"mal de tete (?:brutal|soudain et violent)", r"cephalee (?:brutale|en coup de tonnerre)",
        r"peor dolor de cabeza", r"dolor de cabeza (?:repentino|subito) y (?:fuerte|intenso)",
    ],
    "diabetes": [
        r"diabet\w*", r"(?:blood )?(?:sugar|glucose)(?: level)?s?", r"insulin", r"hypo", r"hyper", r"glucemia", r"glycemie",
        r"azucar",
    ],
    "altered_consciousness": [
        r"(?:isn'?t|is not|not) responding(?: properly)?",
        r"no responde",
        r"repond pas",
        r"ne repond (?:pas|plus)",
        r"confus\w*", r"disorientat\w*", r"disoriented", r"(?:very |really |extremely )?drowsy", r"can'?t (?:wake|be woken)",
        r"won'?t wake(?: up)?", r"unconscious", r"unresponsive", r"not making sense", r"passed out", r"collapsed",
        r"fruity breath", r"seizures?", r"fitting", r"convuls\w*",
        r"inconscient\w*", r"ne se reveille pas", r"s'?est effondre\w*", r"somnolent\w*",
        r"inconsciente", r"no despierta", r"se desmayo", r"desmay\w*", r"convulsion\w*", r"confundid\w*",
    ],
    "unconscious": [
        r"(?:isn'?t|is not|not) responding(?: (?:at all|properly))?",
        r"no responde",
        r"(?:ne )?repond (?:pas|plus)",
        r"having a fit",
        r"shaking all over",
        r"crise convulsive",
        r"(?:had|having) (?:a |her |his )?(?:first )?seizure",
        r"unconscious", r"unresponsive", r"won'?t wake(?: up)?", r"can'?t (?:wake|be woken)", r"not breathing",
        r"having (?:a )?seizures?", r"seizure (?:won'?t stop|for \d+ minutes)", r"fitting", r"convulsing",
        r"inconscient\w*", r"ne se reveille pas", r"ne respire plus", r"inconsciente", r"no despierta", r"no respira",
    ],
    "sepsis": [r"sepsis", r"septic(?:aemia|emia)?", r"septicemie", r"septicemia"],
    "sepsis_signs": [
        r"shivering",
        r"blotchy",
        r"breathing fast",
        r"mottled", r"blotchy (?:skin|legs)", r"(?:very |really )?fast breathing", r"breathing (?:very |really )?fast",
        r"(?:not|hasn'?t|haven'?t) (?:passed|peed|weed) (?:any )?(?:urine|water)? ?(?:all day|in \d+ hours|for \d+ hours)",
        r"cold (?:hands and feet|legs)", r"shivering uncontrollably", r"(?:very|really|extremely) unwell", r"worst i(?:'ve| have) ever felt",
        r"marbrures", r"piel moteada",
    ],
    "high_fever": [
        r"(?:39[.,][5-9]|4[0-2](?:[.,]\d)?) (?:de )?(?:fievre|fiebre)",
        r"(?:fievre|fiebre|fever|temp)\D{0,10}(?:39[.,][5-9]|4[0-2](?:[.,]\d)?)",
        r"(?:fever|temp) (?:is |of |was )?(?:39[.,][5-9]|4[0-2](?:[.,]\d)?)",
        r"(?:39[.,][5-9]|4[0-2](?:[.,]\d)?) ?(?:c|°c|degrees?|deg)", r"10[3-6](?:[.,]\d)? ?(?:f|°f)",
        r"temperature (?:of |is )?(?:39[.,][5-9]|4[0-2]|10[3-6])",
    ],
    "coughing_blood": [
        r"cough(?:ed|ing)? up (?:some |a bit of |a little |a few )?(?:blood|clots?)",
        r"tos[ií] sangre",
        r"escupo sangre",r"cough(?:ing|ed)? (?:up )?blood", r"blood in (?:my )?(?:sputum|phlegm)", r"crach\w* du sang", r"tos con sangre"],
    "severe_pain": [
        r"dolor muy fuerte",
        r"no aguanto",
        r"worst pain",
        r"(?:severe|unbearable|excruciating|agonising|agonizing|worst|intense|terrible) (?:\w+ )?pain",
        r"pain (?:is )?(?:unbearable|excruciating|10 out of 10|10/10)", r"douleur (?:insupportable|atroce)",
        r"dolor (?:insoportable|terrible)",
    ],
    "tearing_pain": [r"tearing pain", r"ripping pain", r"douleur (?:qui )?dechir\w*", r"dolor desgarrador"],
    "head_injury": [r"(?:hit|banged|bumped|knocked) (?:her |his |my |their )?head", r"head injury", r"fell on (?:her|his|my) head",
                    r"(?:cogne|tape) la tete", r"golpe en la cabeza", r"se golpeo la cabeza"],
    "urgent_other": [
        r"looks (?:a bit )?(?:bent|deformed|crooked|out of place)",
        r"no puedo apoyar (?:el pie|la pierna)",
        r"me mordio un (?:perro|gato)",
        r"pus",
        r"escup\w* (?:un poco de )?sangre",
        r"sangre al toser",r"can'?t (?:put|bear) (?:any )?weight on", r"(?:vision|sight) (?:is )?(?:a bit |really |suddenly )?(?:blurr\w*|worse|dim)",
                     r"(?:dog|cat|animal|human) (?:bit|bite)", r"bitten by", r"(?:face|jaw|cheek) (?:is )?swell\w*"],
    "urgent_burn": [
        r"(?:boiling|hot) (?:water|oil)",
        r"scald\w*",
        r"burn (?:is )?(?:bigger|larger) than",
        r"eau bouillante",
        r"agua hirviendo",
        r"quemadura grande",
    ],
    "urgent_belly": [
        r"lower right",
        r"right lower (?:side|abdomen|belly|stomach|tummy)",
        r"can'?t stand up straight",
        r"kidney stones?",
        r"colique nephretique",
        r"colico renal",
        r"piedra en el rinon",
    ],
    "high_sugar": [
        r"meter (?:just )?(?:says|reads|shows) hi",
        r"(?:sugar|glucose|bg|reading|meter)s? (?:is |was |has been |of |at |over |reads |says )*(?:2\d|3\d)(?:[.,]\d)?(?: ?mmol\w*)?",
        r"(?:sugar|glucose)\D{0,15}[3-6]\d\d",
    ],
    "urinary": [
        r"burn\w* when (?:i )?(?:pee|wee|urinat\w*)",
        r"(?:ca )?brule quand je fais pipi",
        r"brulures? (?:urinaires|en urinant)",
        r"arde al orinar",
        r"uti",
        r"urine infection",
        r"infection urinaire",
        r"infeccion de orina",
    ],
    "symptom": [
        r"pain\w*", r"ache\w*", r"aching", r"hurts?", r"hurting", r"sore", r"cough\w*", r"rash", r"itch\w*",
        r"vomit\w*", r"nause\w*", r"diarrh\w*", r"dizz\w*", r"headache", r"migraine", r"swell\w*", r"swollen",
        r"bleed\w*", r"tired", r"fatigue", r"lump", r"infection", r"fever", r"temperature", r"numb\w*", r"tingl\w*",
        r"blood", r"breath\w*", r"wound", r"burn", r"fall", r"fell", r"injur\w*", r"palpitation\w*", r"constipat\w*",
        r"douleur\w*", r"mal", r"toux", r"fievre", r"dolor\w*", r"tos", r"fiebre",
    ],
    "minor": [
        r"stubbed (?:my )?(?:little )?toe",
        r"can walk (?:on it )?(?:fine|normally)",
        r"hurts? like hell",
        r"stung by a (?:bee|wasp)",
        r"(?:bee|wasp) sting",
        r"small (?:red )?bump",
        r"me corte (?:el|un) dedo",
        r"(?:ya )?paro de sangrar",
        r"cogne (?:le )?(?:petit )?orteil",
        r"je marche normalement",
        r"hiccups?",
        r"hoquet",
        r"hipo",
        r"itch\w*",
        r"mild headache",
        r"(?:my|a|the) cold",
        r"(?:small |little )?blisters?",
        r"(?:little|slight|small|mild|tickly) cough",
        r"cut (?:my|his|her) finger",
        r"stopped bleeding",
        r"coup de soleil",
        r"me queme (?:un poco )?con el sol",
        r"quemadura (?:de|del) sol",
        r"(?:mosquito|insect|bug) bites?",
        r"runny nose", r"sneez\w*", r"blocked nose", r"stuffy nose", r"(?:common |a |mild |slight )cold", r"sniffles",
        r"(?:mild|slight|scratchy) sore throat", r"small cut", r"graze", r"mild sunburn", r"sunburn", r"hangover",
        r"insect bite", r"(?:mosquito|midge) bites?", r"bruise", r"chapped lips", r"dry skin", r"paper cut",
        r"rhume", r"nez qui coule", r"resfriado", r"moqueo",
    ],
}

_CJK: dict[str, list[str]] = {
    "chest_pain": [ "胸口好痛", "胸口很痛", "胸口剧痛", "胸口好疼", "胸口很疼", "胸部痛", "心口疼","胸痛", "胸口痛", "胸口疼", "胸闷", "胸部疼痛", "心口痛", "胸口压", "心脏病发作"],
    "sweating": [ "一直出汗","出汗", "冒汗", "冷汗", "大汗", "出虚汗"],
    "cardiac_spread": [ "左手臂", "左手麻","左臂", "下巴痛", "放射到"],
    "breathless": ["呼吸困难", "喘不过气", "气短", "气喘", "呼吸急促"],
    "cannot_breathe": ["无法呼吸", "不能呼吸", "喘不上气", "窒息", "嘴唇发紫"],
    "stroke": ["口角歪斜", "嘴歪", "说话不清", "口齿不清", "半身无力", "半身麻木", "中风", "一侧无力", "脸歪"],
    "airway_swelling": ["喉咙肿", "喉咙发紧", "舌头肿", "嘴唇肿", "过敏性休克", "脸肿"],
    "allergic": ["过敏"],
    "allergic_reaction": [ "全身起红疹", "红疹子","过敏反应", "荨麻疹"],
    "suicidal": [ "结束自己的生命", "结束自己生命", "想好怎么做","自杀", "不想活", "想死", "结束生命", "轻生", "了结自己"],
    "self_harm": ["自残", "伤害自己", "割腕"],
    "overdose": ["过量服药", "吃了太多药", "吞药", "中毒", "喝了农药", "吃了一整瓶"],
    "severe_bleeding": ["大出血", "血流不止", "出血不止", "吐血", "流了很多血"],
    "stiff_neck": ["脖子僵硬", "颈部僵硬"],
    "non_blanching_rash": ["紫色斑点", "压之不褪色"],
    "fever": ["发烧", "发热", "高烧"],
    "high_fever": ["39度5", "39度6", "39度7", "39度8", "39度9", "40度", "41度", "39.5度", "39.8度", "40.5度"],
    "infant": ["婴儿", "宝宝", "新生儿"],
    "pregnant": ["怀孕", "孕"],
    "pregnancy_danger": [ "晕倒", "剧痛","出血", "流血", "腹痛", "见红"],
    "thunderclap": ["最严重的头痛", "剧烈头痛", "雷击样头痛", "突然剧烈头痛"],
    "diabetes": ["糖尿病", "血糖", "胰岛素"],
    "altered_consciousness": [ "迷糊", "迷迷糊糊", "叫不太醒", "意识不清", "糊涂", "不认识人","意识模糊", "神志不清", "昏迷", "叫不醒", "抽搐", "晕倒"],
    "unconscious": ["昏迷", "失去知觉", "叫不醒", "没有呼吸", "抽搐"],
    "sepsis": ["败血症", "脓毒症"],
    "sepsis_signs": ["浑身发抖", "心跳特别快", "没怎么尿", "血压很低"],
    "urgent_other": ["被狗咬", "全身起红疹"],
    "coughing_blood": ["咳血", "咯血", "咳出来几口血", "咳出血", "痰中带血"],
    "urgent_belly": ["右下腹", "直不起腰", "肚子剧痛", "腹部剧痛", "结石", "尿有点红", "血尿"],
    "urinary": ["尿痛", "尿频", "尿急"],
    "symptom": ["痛", "疼", "咳嗽", "发烧", "头晕", "呕吐", "腹泻", "出血", "肿"],
    "minor": ["打嗝", "小口子", "血已经止住", "流鼻涕", "打喷嚏", "鼻塞", "小感冒"],
}

_NEGATION_LATIN = re.compile(
    r"\b(?:no|not|never|without|denies|deny|denied|none|nor|neither|don'?t|doesn'?t|didn'?t|haven'?t|hasn'?t|"
    r"isn'?t|wasn'?t|aren'?t|free of|negative for|ruled out|pas|sans|aucun|aucune|jamais|ni|sin|nunca|ningun|"
    r"ninguna|tampoco|"
    # History and hypotheticals are not the patient's present complaint.
    r"died of|history of|risk of|signs of|symptoms of|thought it was|passed away from|mort d'?un|antecedents? de|"
    r"murio de|antecedentes de)\b"
)
_NEGATION_CJK = ("没有", "没", "无", "不", "未", "否认", "年前", "以前", "曾经", "去年")
# After a match, these make it past history, not a present complaint ("had a stroke in 2019").
_HISTORY_AFTER = re.compile(
    r"\b(?:last year|years? ago|months ago|in (?:19|20)\d\d|en (?:19|20)\d\d|hace \d+ anos|il y a \d+ ans|fully recovered)\b"
    r"|\d+年前|去年"
)
NEGATION_WORDS = 5  # how far back (in words) a negation reaches
NEGATION_CHARS_CJK = 4


def _compile(patterns: list[str]) -> re.Pattern:
    return re.compile("|".join(f"(?:\\b{p}\\b)" for p in patterns))


CONCEPTS: dict[str, tuple[re.Pattern | None, tuple[str, ...]]] = {
    name: (_compile(_LATIN[name]) if name in _LATIN else None, tuple(_CJK.get(name, ())))
    for name in sorted(set(_LATIN) | set(_CJK))
}


def negated(clause: str, start: int, end: int | None = None) -> bool:
    if end is not None and _HISTORY_AFTER.search(clause[end:]):
        return True
    if _NEGATION_LATIN.match(clause, start):
        return False  # the pattern itself says "not" ("not breathing", "isn't responding")
    before = clause[:start]
    for cue in _NEGATION_CJK:
        if cue in before[-NEGATION_CHARS_CJK:]:
            return True
    window = " ".join(before.split()[-NEGATION_WORDS:])
    return bool(_NEGATION_LATIN.search(window))


def find(concept: str, clauses: list[str]) -> str | None:
    """The first un-negated match of a concept in the clauses, or None."""
    pattern, cjk = CONCEPTS[concept]
    for clause in clauses:
        if pattern is not None:
            for match in pattern.finditer(clause):
                if not negated(clause, match.start(), match.end()):
                    return match.group(0)
        for word in cjk:
            at = clause.find(word)
            if at >= 0 and not negated(clause, at, at + len(word)):
                return word
    return None


def strip(concept: str, clauses: list[str]) -> list[str]:
    """The clauses with every match of a concept removed."""
    pattern, cjk = CONCEPTS[concept]
    out = []
    for clause in clauses:
        if pattern is not None:
            clause = pattern.sub(" ", clause)
        for word in cjk:
            clause = clause.replace(word, " ")
        out.append(clause)
    return out
