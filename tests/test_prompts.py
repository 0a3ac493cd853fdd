from balsa_core.prompts import PromptTemplate, render_chat, tokenize_audio_prompt


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
