import pandas as pd

from balsa_core.evaluation.probing import answer_with_text, score_answers
from balsa_core.generation import Completion
from balsa_core.prompts import PromptTemplate


class RecordingBackend:
    model_name = "recorder"

    def __init__(self, replies):
        self.replies, self.messages, self.settings = replies, [], None

    def generate(self, user_messages, settings):
        self.messages, self.settings = list(user_messages), settings
        return [Completion(text=reply, num_tokens=1, finished=True) for reply in self.replies]


ITEMS = pd.DataFrame(
    {
        "question": ["Is there a sound of siren in the audio?", "Is there a sound of dog in the audio?"],
        "tags": [["siren", "rain"], ["siren", "rain"]],
        "label": ["yes", "no"],
    }
)


def test_text_ceiling_puts_the_true_tags_where_the_audio_would_be():
    backend = RecordingBackend(["Yes.", "No."])
    answers = answer_with_text(
        backend, PromptTemplate(), ITEMS, max_new_tokens=8, answer_instruction="Answer yes or no."
    )
    assert answers == ["Yes.", "No."]
    assert backend.messages[0] == (
        "[Begin of audio] siren, rain [End of audio] Is there a sound of siren in the audio? Answer yes or no."
    )
    assert backend.settings.temperature == 0 and backend.settings.max_new_tokens == 8


def test_scoring_counts_unparsed_answers_as_wrong():
    scored, metrics = score_answers(ITEMS, ["Yes, a siren.", "The sound of a dog is a sound"])
    assert list(scored["parsed"].isna()) == [False, True]
    assert list(scored["correct"]) == [True, False]
    assert metrics["acc"] == 50.0 and metrics["unparsed"] == 50.0
