package langid_test

// Short articles in the shape the gate sees: a title, then the body.
var samples = []struct {
	name, lang, text string
}{
	{"German with an English quote and Russian names", "de", `Lawrow wirft dem Westen „Doppelmoral“ vor

Der russische Außenminister Sergey Lavrov hat am Dienstag in Moskau erklärt, dass die Gespräche über die Grenze zwischen Armenien und Aserbaidschan „ohne Vermittler“ fortgesetzt werden müssten. Die Europäische Union habe „keine Rolle“ in der Region zu spielen, sagte er?? Ein Sprecher des US-Außenministeriums antwortete: "We are committed to supporting a durable peace in the South Caucasus." Der armenische Premierminister Nikol Pashinyan wollte sich zu den Aussagen nicht äußern.`},
	{"German headline and short lead", "de", `Selensky trifft Erdogan in Istanbul

Der ukrainische Präsident Wolodymyr Zelensky ist am Freitag zu Gesprächen mit dem türkischen Präsidenten in Istanbul eingetroffen, wie sein Büro mitteilte. Es geht um den Austausch von Gefangenen und die Sicherheit der Schifffahrt im Schwarzen Meer.`},
	{"English wire copy", "en", `Azerbaijan and Armenia agree to resume border talks

Azerbaijani President Ilham Aliyev said on Tuesday that the two countries had agreed to resume talks on delimiting their shared border, which were suspended last year. "We are closer to peace than at any time in the last thirty years," Aliyev told reporters in Baku. Armenian Prime Minister Nikol Pashinyan's office confirmed that a commission would meet next month.`},
	{"Russian wire copy", "ru", `Песков прокомментировал переговоры в Стамбуле

Пресс-секретарь президента России Дмитрий Песков заявил во вторник, что Кремль пока не видит оснований для нового раунда переговоров. По его словам, позиция Москвы остается неизменной, а все вопросы будут обсуждаться на уровне экспертов. Ранее министр иностранных дел Сергей Лавров сообщил, что ответ западных стран ожидается до конца месяца.`},
	{"Ukrainian wire copy", "uk", `Зеленський провів зустріч з прем'єр-міністром Польщі

Президент України Володимир Зеленський у понеділок провів переговори з прем'єр-міністром Польщі у Києві. Сторони обговорили питання безпеки на кордоні, постачання зброї та відновлення енергетичної інфраструктури. За словами глави держави, Україна розраховує на подальшу підтримку своїх сусідів і партнерів.`},
	{"French wire copy", "fr", `Le Kazakhstan renforce ses liens avec l'Union européenne

Le président kazakh Kassym-Jomart Tokaïev a reçu mercredi à Astana une délégation de la Commission européenne pour discuter de la coopération énergétique. Selon le communiqué publié par la présidence, les deux parties ont signé un accord sur les matières premières critiques et l'hydrogène vert. Les entreprises européennes sont de plus en plus présentes dans le pays.`},
	{"Spanish wire copy", "es", `Georgia celebra elecciones municipales bajo tensión

Los georgianos votaron el sábado en unas elecciones municipales marcadas por las protestas de la oposición y las críticas de la Unión Europea. Según la comisión electoral, la participación fue del cuarenta por ciento. Los observadores internacionales señalaron irregularidades en varios distritos de Tiflis.`},
}
