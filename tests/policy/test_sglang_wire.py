"""The /generate reply parser: well-formed replies read exactly, anything else is a PolicyProtocolError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.policy.errors import PolicyProtocolError
from prover.policy.sglang_wire import generate_request_body, parse_generate_reply


def item(text: str, logprobs: list[float], *, finish: object = None, prompt_tokens: int = 7) -> dict:
    return {
        "text": text,
        "meta_info": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(logprobs),
            "finish_reason": finish,
            "output_token_logprobs": [[lp, 100 + i, None] for i, lp in enumerate(logprobs)],
        },
    }


def test_request_body_shapes() -> None:
    one = generate_request_body(["a"], max_new_tokens=8, temperature=0.0, top_p=1.0, stop=None)
    many = generate_request_body(["a", "b"], max_new_tokens=8, temperature=0.5, top_p=0.9, stop=["```"])
    assert one == {
        "text": "a",
        "sampling_params": {"max_new_tokens": 8, "temperature": 0.0, "top_p": 1.0},
        "return_logprob": True,
    }
    assert many["text"] == ["a", "b"]
    assert many["sampling_params"]["stop"] == ["```"]


def test_a_nul_in_generated_text_becomes_a_replacement_character() -> None:
    # Small random models emit NUL; PostgreSQL cannot store it in a tactic, and no Lean tactic holds one.
    [completion] = parse_generate_reply(item("norm_num\x00\x00x", [-1.0]), sent=1, max_new_tokens=4)
    assert completion.text == "norm_num\ufffd\ufffdx"


def test_finish_reason_forms_and_truncation() -> None:
    reply = [
        item("a", [-0.5, -0.25], finish={"type": "length", "length": 2}),
        item("b", [-1.0], finish="stop"),
        item("c", [-1.0, -1.0], finish=None),  # no reason: truncated when it used the whole budget
    ]
    parsed = parse_generate_reply(reply, sent=3, max_new_tokens=2)
    assert [(c.finish_reason, c.truncated) for c in parsed] == [
        ("length", True),
        ("stop", False),
        (None, True),
    ]
    assert parsed[0].logprob == -0.75
    assert parsed[0].total_tokens == 9


@pytest.mark.parametrize(
    ("reply", "sent", "message"),
    [
        ([item("a", [-1.0])], 1, "reply is list, expected an object"),
        (item("a", [-1.0]), 2, "reply is dict, expected a list of 2 objects"),
        ([item("a", [-1.0])], 2, "reply has 1 items for 2 texts sent"),
        ({"text": "a"}, 1, "meta_info is NoneType"),
        ({"text": 3, "meta_info": {}}, 1, "text is int"),
        (
            {"text": "a", "meta_info": {"prompt_tokens": 1, "completion_tokens": 1}},
            1,
            "was return_logprob ignored",
        ),
        (
            {
                "text": "a",
                "meta_info": {
                    "prompt_tokens": 1,
                    "completion_tokens": 1,
                    "output_token_logprobs": [[None, 5]],
                },
            },
            1,
            "output_token_logprobs[0] is [None, 5]",
        ),
        (
            {
                "text": "a",
                "meta_info": {"prompt_tokens": -1, "completion_tokens": 0, "output_token_logprobs": []},
            },
            1,
            "meta_info.prompt_tokens is -1",
        ),
        ([item("a", [-1.0]), "oops"], 2, "reply[1] is str"),
        (item("a", [-1.0], finish={"kind": "stop"}), 1, "meta_info.finish_reason is"),
    ],
)
def test_malformed_replies_name_what_is_wrong(reply: object, sent: int, message: str) -> None:
    with pytest.raises(PolicyProtocolError) as caught:
        parse_generate_reply(reply, sent=sent, max_new_tokens=8)
    assert message in str(caught.value)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=25), children, max_size=4)
    ),
    max_leaves=20,
)


META_KEYS = st.sampled_from(["prompt_tokens", "completion_tokens", "finish_reason", "output_token_logprobs"])
NEAR_MISS_ITEM = st.fixed_dictionaries(
    {
        "text": st.text(max_size=5) | JSON,
        "meta_info": st.dictionaries(META_KEYS, JSON | st.lists(st.lists(JSON))),
    }
)


@settings(max_examples=300, deadline=None)
@given(JSON | NEAR_MISS_ITEM | st.lists(NEAR_MISS_ITEM, max_size=3), st.integers(min_value=1, max_value=3))
def test_arbitrary_json_is_parsed_or_rejected_cleanly(reply: object, sent: int) -> None:
    try:
        parse_generate_reply(reply, sent=sent, max_new_tokens=4)
    except PolicyProtocolError:
        pass
