"""Reading rendered HTML in tests: one element (by id or attribute) as text or markup."""

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Collector(HTMLParser):
    def __init__(self, match):
        super().__init__(convert_charrefs=True)
        self.match = match
        self.found: list[dict] = []
        self._stack: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for item in self._stack:
            item["markup"].append(self.get_starttag_text() or "")
        if tag in VOID:
            return
        for item in self._stack:
            item["depth"] += 1
        if self.match(tag, attributes):
            entry = {"tag": tag, "attrs": attributes, "text": [], "markup": [], "depth": 1}
            self._stack.append(entry)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        for item in list(self._stack):
            item["depth"] -= 1
            if item["depth"] == 0:
                self._stack.remove(item)
                self.found.append(item)
            else:
                item["markup"].append(f"</{tag}>")

    def handle_data(self, data):
        for item in self._stack:
            item["text"].append(data)
            item["markup"].append(data)


class Element:
    def __init__(self, entry):
        self.tag = entry["tag"]
        self.attrs = entry["attrs"]
        self.text = " ".join(" ".join(entry["text"]).split())
        self.inner_html = "".join(entry["markup"])

    def __repr__(self):
        return f"<{self.tag} {self.attrs}: {self.text!r}>"


def find_all(html: str, **attrs) -> list[Element]:
    """Every element whose attributes include all of `attrs` (use class_ for class)."""
    wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}

    def match(tag, attributes):
        return all(attributes.get(k) == v for k, v in wanted.items())

    parser = _Collector(match)
    parser.feed(html)
    parser.close()
    return [Element(e) for e in parser.found]


def find(html: str, **attrs) -> Element | None:
    found = find_all(html, **attrs)
    return found[0] if found else None


def offer_of(html: str, sku: str) -> Element:
    """The offer region of one product on a page."""
    element = find(html, data_sku=sku)
    assert element is not None, f"no offer region for {sku}"
    assert element.attrs["id"].startswith("offer-")
    return element
