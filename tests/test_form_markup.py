"""The portal's quicker WTForms markup (``portal.forms``) writes exactly what WTForms
writes: attributes (``quick_html_params``) and select options (``QuickSelect``)."""

from __future__ import annotations

import itertools

import pytest
from markupsafe import Markup
from wtforms import Form, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select
from wtforms.widgets import core as widgets_core

import portal.forms as portal_forms

VALUES = [True, False, None, 0, 7, "plain", 'a "quoted" <b>&\'x\'', Markup('<i class="x">'),
          "中文 值", ""]
KEYS = ["id", "class_", "data_hint_text", "aria_describedby", "for_", "name", "required",
        "x<y"]


def wtforms_html_params(**kwargs):
    """WTForms' own ``html_params``, as its source writes it (the module's is replaced)."""
    params = []
    for k, v in sorted(kwargs.items()):
        k = widgets_core.clean_key(k)
        if v is True:
            params.append(k)
        elif v is False:
            pass
        else:
            v = Markup.escape(v).replace(Markup('"'), Markup("&quot;"))
            params.append(Markup('{k}="{v}"').format(k=k, v=v))
    return Markup(" ").join(params)


@pytest.mark.parametrize("keys", list(itertools.combinations(KEYS, 2)) + [tuple(KEYS)])
def test_attributes_are_wtforms_own(keys):
    for values in itertools.islice(itertools.product(VALUES, repeat=len(keys)), 200):
        kwargs = dict(zip(keys, values, strict=True))
        ours = portal_forms.quick_html_params(**kwargs)
        assert isinstance(ours, Markup)
        assert ours == wtforms_html_params(**kwargs), kwargs


def test_every_widget_uses_them():
    assert widgets_core.html_params is portal_forms.quick_html_params
    assert widgets_core.Input.html_params is portal_forms.quick_html_params


class _Form(Form):
    name = StringField("Name <you>", render_kw={"data_hint": 'say "hi"', "required": True})
    pick = SelectField("Pick", choices=[SelectChoice("", "—"), SelectChoice("1", "One & <two>"),
                                        SelectChoice('x"y', "Quote")])


def test_rendered_fields_are_wtforms_own(monkeypatch):
    form = _Form(data={"name": 'O"Neil <b>', "pick": "1"})
    ours = [str(form.name()), str(form.name.label()), str(form.pick())]
    monkeypatch.setattr(widgets_core, "html_params", wtforms_html_params)
    monkeypatch.setattr(widgets_core.Input, "html_params", staticmethod(wtforms_html_params))
    monkeypatch.setattr(portal_forms.wtforms_widgets, "html_params", wtforms_html_params)
    theirs = [str(form.name()), str(form.name.label()), str(Select()(form.pick))]
    assert ours == theirs
    assert 'data-hint="say &#34;hi&#34;"' in ours[0] and "required" in ours[0]
