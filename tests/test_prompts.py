import pytest

from balsa_core.generation import SamplingSettings, make_backend
from balsa_core.generation.http_backend import build_request_body
from balsa_core.generation.vllm_backend import conversations
from balsa_core.prompts import PromptTemplate, chat_messages, render_chat, tokenize_audio_prompt


def test_equation_1_user_message():
    template = PromptTemplate()
    message = template.user_message(["A woman talks nearby as water pours"], "Replay the audio.")
    assert message == "[Begin of audio] A woman talks nearby as water pours [End of audio] Replay the audio."


def test_equation_2_numbers_the_audio_markers():
    message = PromptTemplate().user_message(
        ["a dog barks", "rain falls"], "Explain the difference between the audio clips."
    )
    assert message == (
        "[Begin of audio1] a dog barks [End of audio1] [Begin of audio2] rain falls [End of audio2] "
        "Explain the difference between the audio clips."
    )


def test_audio_slot_replaces_exactly_the_seed(tiny_llm):
    _, tokenizer = tiny_llm
    template = PromptTemplate()
    prompt = tokenize_audio_prompt(tokenizer, template, "Replay the audio.", num_audios=1, tokens_per_audio=5)
    ((start, length),) = prompt.audio_slots
    assert length == 5
    rendered = render_chat(tokenizer, template.user_message(["SEED"], "Replay the audio."))
    before, after = rendered.split("SEED")
    # The text around the slot decodes to the text around the seed in the chat rendering.
    assert tokenizer.decode(prompt.input_ids[:start]) == before
    assert tokenizer.decode(prompt.input_ids[start + length :]) == after


def test_several_audio_slots_in_order(tiny_llm):
    _, tokenizer = tiny_llm
    prompt = tokenize_audio_prompt(tokenizer, PromptTemplate(), "Caption both.", num_audios=2, tokens_per_audio=3)
    (first, _), (second, _) = prompt.audio_slots
    assert first + 3 < second
    assert "[End of audio1] [Begin of audio2]" in tokenizer.decode(prompt.input_ids[first + 3 : second])


SYSTEM_MESSAGES = [None, "", "You are listening to audio."]


@pytest.mark.parametrize("system_message", SYSTEM_MESSAGES)
def test_the_system_turn_is_what_the_setting_says(tiny_llm, system_message):
    _, tokenizer = tiny_llm
    rendered = render_chat(tokenizer, "hello", system_message)
    if system_message is None:
        assert "system" not in rendered, "the tiny template writes no default system turn"
    else:
        assert rendered.startswith(f"<|im_start|>system\n{system_message}<|im_end|>\n<|im_start|>user\nhello")


@pytest.mark.parametrize("system_message", SYSTEM_MESSAGES)
def test_generation_training_and_evaluation_render_the_same_chat(tiny_llm, tiny_llm_dir, system_message):
    _, tokenizer = tiny_llm
    template = PromptTemplate(system_message=system_message)
    instruction = "Replay the audio."
    # Target generation and the text ceiling: the backend the config builds renders the seed's chat.
    backend = make_backend({"type": "transformers", "batch_size": 2}, str(tiny_llm_dir), template.system_message)
    before, after = backend.render(template.user_message(["SEED"], instruction)).split("SEED")
    # Training and audio evaluation: the audio slot stands where the seed was.
    prompt = tokenize_audio_prompt(tokenizer, template, instruction, num_audios=1, tokens_per_audio=4)
    ((start, length),) = prompt.audio_slots
    assert tokenizer.decode(prompt.input_ids[:start]) == before
    assert tokenizer.decode(prompt.input_ids[start + length :]) == after
    # vLLM and OpenAI-compatible servers are sent the same messages.
    message = template.user_message(["SEED"], instruction)
    assert conversations([message], system_message) == [chat_messages(message, system_message)]
    body = build_request_body("m", message, SamplingSettings(max_new_tokens=4), 0, system_message)
    assert body["messages"] == chat_messages(message, system_message)
    # A shard written under one system message is never reused under another.
    assert ("system_message" in backend.identity) == (system_message is not None)
