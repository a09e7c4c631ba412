#!/usr/bin/env python3
"""Writes examples/minilm/data/bench-256.txt: the 256 sentences of minilm's --bench figures.

    python3 examples/minilm/tools/make_bench_sentences.py > examples/minilm/data/bench-256.txt

A mix like a search engine's embedding traffic, drawn with a fixed seed from the written
sentences below: a quarter short queries (one sentence, 5-20 tokens), half passages of 2-5
sentences (30-90 tokens), a quarter long documents of 6-24 sentences (100-256 tokens, the
longest cut at 256 by the model's limit).
"""
import random

POOL = [
    "How do I reset my password?",
    "Best hiking trails near the lake.",
    "What is the capital of Australia?",
    "Cheap flights to Lisbon in May.",
    "Symptoms of vitamin D deficiency.",
    "How long should pasta be boiled?",
    "The new movie is awesome.",
    "A man is playing a guitar on the street.",
    "The committee approved the budget after a long debate about infrastructure spending.",
    "Researchers found that regular exercise improves memory in older adults.",
    "The train was delayed by forty minutes because of a signal failure near the station.",
    "She planted tomatoes, basil and peppers in the small garden behind the house.",
    "Quantum computers use qubits, which can represent zero and one at the same time.",
    "The museum's new exhibition explores the history of navigation and early maps.",
    "Heavy rain is expected tomorrow, with strong winds along the coast in the evening.",
    "The company reported higher profits thanks to strong sales of its cloud services.",
    "To install the package, run the setup script and follow the instructions on screen.",
    "The recipe calls for two cups of flour, one egg and a pinch of salt.",
    "After the match, the coach praised the defense but criticized the missed chances.",
    "Sentence embeddings map text to vectors so that similar meanings lie close together.",
    "The library will be closed on Monday for maintenance of the heating system.",
    "Volcanic eruptions can influence the global climate for several years.",
    "He apologized for the confusion and promised to send the corrected invoice today.",
    "The smartphone's battery lasts two days, but the camera struggles in low light.",
    "Children learn languages faster when they are exposed to them from an early age.",
    "The bridge, built in 1932, was restored last year and reopened to pedestrians.",
    "Our support team is available around the clock to answer questions about billing.",
    "The study compared three treatments and found no significant difference in outcomes.",
    "Migrating birds use the Earth's magnetic field and the position of the stars to navigate.",
    "The startup raised twelve million dollars to expand its delivery network to new cities.",
    "Please make sure that all documents are signed before the end of the week.",
    "The orchestra performed a symphony by Dvořák, followed by a modern piece for strings.",
    "In the novel, a young detective investigates a series of thefts in a quiet village.",
    "Solar panels on the roof now cover most of the building's electricity needs.",
    "The software update fixes a bug that caused the application to crash on startup.",
    "Farmers worry that the dry summer will reduce the harvest of wheat and corn.",
    "The conference brings together engineers, researchers and students from forty countries.",
    "Traffic on the highway was heavy because of an accident near the northern exit.",
    "The hotel offers free breakfast, a swimming pool and a shuttle to the airport.",
    "Scientists have discovered a new species of frog in the rainforest of Ecuador.",
    "The city council plans to add more bicycle lanes and reduce speed limits downtown.",
    "Reading before bed can improve sleep, according to a survey of two thousand adults.",
    "The court ruled that the contract was valid and ordered the company to pay damages.",
    "GPUs run thousands of threads in parallel, which makes them well suited to matrix multiplication.",
    "An inference engine batches requests of different lengths to keep the accelerator busy.",
    "The recipe was handed down from her grandmother and has not changed in sixty years.",
    "Astronomers observed a distant galaxy whose light left it more than ten billion years ago.",
    "The museum is open every day except Tuesday, from ten in the morning until six.",
]


def main():
    rng = random.Random(256)
    lines = []
    for i in range(256):
        kind = i % 4
        if kind == 0:
            count = 1
        elif kind == 3:
            count = rng.randint(6, 24)
        else:
            count = rng.randint(2, 5)
        lines.append(" ".join(rng.choice(POOL) for _ in range(count)))
    rng.shuffle(lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
