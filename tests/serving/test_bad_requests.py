"""Invalid bodies get HTTP 400 with a message that names the offending field."""

from __future__ import annotations

import pytest

GENERATE_CASES = [
    ({}, "text"),
    ({"text": 5}, "text"),
    ({"text": []}, "text"),
    ({"text": ["ok", 3]}, "text[1]"),
    ({"text": ""}, "text[0]"),
    ({"input_ids": [1, 2]}, "input_ids"),
    ({"text": "a", "sampling_params": []}, "sampling_params"),
    ({"text": "a", "sampling_params": "greedy"}, "sampling_params"),
    ({"text": "a", "sampling_params": {"temperature": -0.5}}, "sampling_params.temperature"),
    ({"text": "a", "sampling_params": {"temperature": "hot"}}, "sampling_params.temperature"),
    ({"text": "a", "sampling_params": {"top_p": 0}}, "sampling_params.top_p"),
    ({"text": "a", "sampling_params": {"top_p": 1.5}}, "sampling_params.top_p"),
    ({"text": "a", "sampling_params": {"top_k": 0}}, "sampling_params.top_k"),
    ({"text": "a", "sampling_params": {"max_new_tokens": 0}}, "sampling_params.max_new_tokens"),
    ({"text": "a", "sampling_params": {"max_new_tokens": 2.5}}, "sampling_params.max_new_tokens"),
    ({"text": "a", "sampling_params": {"max_new_tokens": True}}, "sampling_params.max_new_tokens"),
    ({"text": "a", "sampling_params": {"max_new_tokens": 100000}}, "text[0]"),
    ({"text": "a", "sampling_params": {"n": 0}}, "sampling_params.n"),
    ({"text": "a", "sampling_params": {"n": 257}}, "sampling_params.n"),
    ({"text": ["a"] * 5, "sampling_params": {"n": 256}}, "sampling_params.n"),  # 1280 rows > 1024 per request
    ({"text": "a", "sampling_params": {"stop": [""]}}, "sampling_params.stop[0]"),
    ({"text": "a", "sampling_params": {"stop": 7}}, "sampling_params.stop"),
    ({"text": "a", "sampling_params": {"stop_token_ids": ["x"]}}, "sampling_params.stop_token_ids[0]"),
    ({"text": "a", "sampling_params": {"frequency_penalty": 1.0}}, "sampling_params.frequency_penalty"),
    ({"text": ["a", "b"], "sampling_params": [{}]}, "sampling_params"),
    ({"text": "a", "return_logprob": "yes"}, "return_logprob"),
    ({"text": "a", "stream": True}, "stream"),
    ({"text": "a", "return_hidden_states": True}, "return_hidden_states"),
    ({"text": "a", "temperature": 0}, "temperature"),
    ([1, 2], "body"),
]


@pytest.mark.parametrize("body, field", GENERATE_CASES)
def test_generate_rejects_bad_bodies_naming_the_field(client, body, field):
    response = client.post("/generate", json=body)
    assert response.status_code == 400, response.text
    reply = response.json()
    assert reply["field"] == field
    assert reply["error"].startswith(field)


ENCODE_CASES = [
    ({}, "text"),
    ({"text": None}, "text"),
    ({"text": [""]}, "text[0]"),
    ({"text": ["a", {"b": 1}]}, "text[1]"),
    ({"text": "a", "hidden_size": 4096}, "hidden_size"),
    ({"text": "a", "hidden_size": "64"}, "hidden_size"),
    ({"text": "a", "pooling": "cls"}, "pooling"),
]


@pytest.mark.parametrize("body, field", ENCODE_CASES)
def test_encode_rejects_bad_bodies_naming_the_field(client, body, field):
    response = client.post("/encode", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


@pytest.mark.parametrize("path", ["/generate", "/encode"])
def test_malformed_json_is_a_400(client, path):
    response = client.post(path, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["field"] == "body"


def test_a_bad_request_does_not_disturb_the_server(client):
    assert client.post("/generate", json={"text": 1}).status_code == 400
    assert client.get("/health").json() == {"status": "ok"}
    ok = client.post("/generate", json={"text": "a", "sampling_params": {"max_new_tokens": 1}})
    assert ok.status_code == 200
