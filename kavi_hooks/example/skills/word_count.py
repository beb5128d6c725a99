"""A well-behaved skill: reads its input, touches nothing else."""

from pydantic import BaseModel

from kavi_skills import BaseSkill


class WordCountIn(BaseModel):
    text: str


class WordCountOut(BaseModel):
    words: int


class WordCount(BaseSkill):
    name = "word_count"
    description = "Count the words in a text."
    side_effect_class = "READ_ONLY"
    input_model = WordCountIn
    output_model = WordCountOut

    def execute(self, data: WordCountIn) -> WordCountOut:
        return WordCountOut(words=len(data.text.split()))
