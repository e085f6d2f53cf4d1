"""education: school subject of an exam question."""

from __future__ import annotations

import random

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains.helpers import fill, instruction, join
from loratune.tasks.registry import register

EDUCATION_LABELS = (
    "math",
    "physics",
    "chemistry",
    "biology",
    "history",
    "geography",
    "literature",
)
EDUCATION_CUES: dict[str, tuple[str, ...]] = {
    "math": (
        "Solve for x: ${a}x + $b = $c.",
        "What is the area of a triangle with base $a cm and height $b cm?",
        "Find the derivative of x^$n + ${a}x.",
        "A shop sells $a $things for $$$b. How much do $c $things cost?",
        "What is the probability of rolling a total of $n with two fair dice?",
        "Factor x^2 + ${a}x + $b.",
        "How many prime numbers are less than $c?",
        "What is $n% of $c?",
        "Prove that the square root of $prime is irrational.",
        "Find the mean of $a, $b and $c.",
        "What is the sum of the interior angles of a polygon with $n sides?",
        "How many ways can $n students stand in a line?",
        "A biologist counts $c cells and $a% of them divide. How many divide?",
        "A novel has $c pages. Reading $a a day, how many days does it take?",
        "A town of $a thousand grows $n% a year. What is it after two years?",
        "The Nile is $c km longer than a $b km river. How long is the Nile?",
    ),
    "physics": (
        "A car accelerates from rest at $n m/s^2. What is its speed after $a s?",
        "What force accelerates a $a kg mass at $n m/s^2?",
        "Why does a $stick in a glass of water look bent?",
        "A $a ohm resistor carries $n A. What is the voltage across it?",
        "Explain why satellites stay in orbit around $planet.",
        "How much work is done lifting a $a kg box by $n m?",
        "Describe how a transformer changes voltage.",
        "What is the kinetic energy of a $a kg ball moving at $n m/s?",
        "Why does a ball thrown upward on $planet slow down?",
        "What is the frequency of a wave with a period of $n seconds?",
        "How long does light take to travel $c million km?",
        "Why does a metal bench feel colder than a wooden one?",
        "Why do astronauts weigh less on the Moon?",
        "Why did Galileo's two balls of different mass land together?",
        "What pressure does a diver feel at $a m depth in the sea?",
        "How does sunlight through rain drops form a rainbow?",
    ),
    "chemistry": (
        "Balance the equation: $equation.",
        "How many moles are in $c g of $compound?",
        "What is the pH of a solution with [H+] = 10^-$n M?",
        "Name the product when $metal reacts with chlorine.",
        "Why is $noble so unreactive?",
        "What type of bond holds $compound together?",
        "Calculate the mass of $n moles of $compound.",
        "What is oxidised when $rusting corrodes?",
        "Describe how a catalyst speeds up a reaction.",
        "What is the molar mass of $compound?",
        "Why does $metal react violently with water?",
        "Why did the lead pipes of Roman baths corrode?",
        "Which compound gives the soil of Mars its red colour?",
        "How is salt crystallised from seawater in $country?",
        "What gas is released when vinegar meets baking soda?",
    ),
    "biology": (
        "What is the role of the $organelle in a cell?",
        "Explain how a $disease vaccine trains the immune system.",
        "What does the enzyme $enzyme do?",
        "How do $plants make glucose?",
        "Two heterozygous $organisms are crossed; what fraction of offspring are recessive?",
        "Name the four chambers of the human heart.",
        "Why do $migrants migrate each year?",
        "What is the function of $cells?",
        "How does natural selection change a population of $organisms over $c generations?",
        "Describe the stages of $division.",
        "What does the $organ do during digestion?",
        "Why did Darwin's finches on the Galapagos have different beaks?",
        "How do camels survive for weeks in the Sahara?",
        "How does caffeine affect the human heart rate?",
        "Why do bears hibernate through the winter in $country?",
    ),
    "history": (
        "Why did $empire decline?",
        "What caused $war?",
        "In what year did $event?",
        "How did $leader rise to power?",
        "What were the effects of $invention in Europe?",
        "Why did the American colonies declare independence in 1776?",
        "Describe the causes of $revolution.",
        "What goods were traded along the Silk Road?",
        "How did the Black Death change wages in 14th-century Europe?",
        "What did the Magna Carta of 1215 limit?",
        "Who fought in $war, and who won?",
        "Why did Britain ration sugar and meat in 1940?",
        "How did Marie Curie's X-ray vans help in the First World War?",
        "Why was the Suez Canal vital to the British Empire?",
        "How did London respond to the plague of 1665?",
    ),
    "geography": (
        "What is the capital of $country?",
        "Which river flows through $city?",
        "Why does $monsoon have a monsoon climate?",
        "Name the longest river in $continent.",
        "What causes deltas to form at river mouths?",
        "Which mountain range separates $neighbours?",
        "Why do deserts form on the lee side of mountains?",
        "A country has $a million people on $c thousand km^2; what is its population density?",
        "Which ocean lies between $coasts?",
        "What are the main exports of $country?",
        "Why is $quake prone to earthquakes?",
        "Why is the Dead Sea so salty?",
        "How do glaciers carve U-shaped valleys?",
        "Why do most people in $country live near the coast?",
        "Which modern countries did the Silk Road cross?",
    ),
    "literature": (
        "What is the main theme of $book?",
        "Who narrates $book?",
        "Identify the metaphor in the first line of $poem.",
        "What does the green light symbolise in The Great Gatsby?",
        "Compare the two eldest sisters in Pride and Prejudice.",
        "Why does Hamlet delay his revenge?",
        "What is the rhyme scheme of a $form?",
        "Describe the setting of $book.",
        "In $book, what role does the war play?",
        "How many lines does a haiku have, and what is its syllable pattern?",
        "How does $author build suspense in $book?",
        "What does the Mississippi River symbolise in Huckleberry Finn?",
        "How does Orwell use the Ministry of Truth in 1984?",
        "Why does Victor regret his experiment in Frankenstein?",
        "How is the epidemic used as a metaphor in Camus's The Plague?",
    ),
}
# Literature slots keep each book with its author.
BOOKS = (
    ("Jane Eyre", "Charlotte Bronte"),
    ("Beloved", "Toni Morrison"),
    ("Things Fall Apart", "Chinua Achebe"),
    ("Frankenstein", "Mary Shelley"),
    ("Middlemarch", "George Eliot"),
    ("1984", "George Orwell"),
    ("Moby-Dick", "Herman Melville"),
    ("Dracula", "Bram Stoker"),
)
EDUCATION_SLOTS: dict[str, tuple[str, ...]] = {
    "things": ("pens", "apples", "tickets", "notebooks"),
    "prime": ("2", "3", "5", "7"),
    "stick": ("spoon", "pencil", "straw", "metal rod"),
    "planet": ("Earth", "Mars", "Jupiter", "the Moon"),
    "equation": ("H2 + O2 -> H2O", "CH4 + O2 -> CO2 + H2O", "N2 + H2 -> NH3", "Fe + O2 -> Fe2O3"),
    "compound": ("water", "sodium chloride", "glucose", "methane", "ammonia"),
    "metal": ("sodium", "potassium", "lithium", "calcium"),
    "noble": ("neon", "argon", "helium", "xenon"),
    "rusting": ("iron", "copper", "zinc", "a steel nail"),
    "organelle": ("mitochondrion", "ribosome", "nucleus", "chloroplast", "Golgi apparatus"),
    "disease": ("measles", "polio", "tetanus", "flu"),
    "enzyme": ("DNA polymerase", "amylase", "pepsin", "lipase"),
    "plants": ("plants", "algae", "cacti", "ferns"),
    "organisms": ("pea plants", "fruit flies", "mice", "snapdragons"),
    "migrants": ("swallows", "salmon", "wildebeest", "monarch butterflies"),
    "cells": ("red blood cells", "white blood cells", "platelets", "neurons"),
    "division": ("mitosis", "meiosis"),
    "organ": ("liver", "pancreas", "stomach", "small intestine"),
    "empire": ("the Western Roman Empire", "the Ottoman Empire", "the Mughal Empire"),
    "war": ("the First World War", "the Crimean War", "the Thirty Years' War", "the Boer War"),
    "event": ("the Berlin Wall fall", "the Bastille fall", "the Titanic sink"),
    "leader": ("Napoleon", "Augustus", "Genghis Khan", "Lenin"),
    "invention": ("the printing press", "the steam engine", "gunpowder"),
    "revolution": ("the French Revolution", "the Russian Revolution", "the Glorious Revolution"),
    "country": ("Peru", "Kenya", "Vietnam", "Norway", "Chile", "Egypt", "Canada"),
    "city": ("Vienna", "Cairo", "Budapest", "London", "Prague", "Baghdad"),
    "monsoon": ("Mumbai", "Dhaka", "Yangon", "Kerala"),
    "continent": ("Africa", "South America", "Asia", "Europe"),
    "neighbours": ("France and Spain", "Chile and Argentina", "Europe and Asia", "India and Tibet"),
    "coasts": ("Africa and Australia", "Europe and North America", "Asia and the Americas"),
    "quake": ("Japan", "Chile", "Nepal", "Turkey"),
    "poem": ("the poem", "'Ozymandias'", "'Daffodils'", "'The Raven'"),
    "form": ("Shakespearean sonnet", "Petrarchan sonnet", "limerick", "villanelle"),
    "teacher": ("Ms Lee", "Mr Okafor", "Mrs Diaz", "Dr Novak"),
}
EDUCATION_PREFIXES = (
    "Week $n quiz, $teacher's class:",
    "Homework Q$n:",
    "Bonus ($n points):",
    "Exam item $c.",
    "Revision card:",
    "",
    "",
)
EDUCATION_SUFFIXES = ("(Show your working.)", "(2 marks)", "Answer in one sentence.", "", "", "")


def _education_sample(rng: random.Random) -> tuple[str, str]:
    """School subject of a question; numbers, dates, places and 'why' occur across subjects."""
    label = rng.choice(EDUCATION_LABELS)
    book, author = rng.choice(BOOKS)
    v = {slot: rng.choice(options) for slot, options in EDUCATION_SLOTS.items()}
    v |= {
        "a": str(rng.randint(2, 40)),
        "b": str(rng.randint(2, 30)),
        "c": str(rng.randint(20, 500)),
        "n": str(rng.randint(2, 9)),
        "book": book,
        "author": author,
    }
    parts = [rng.choice(EDUCATION_PREFIXES), rng.choice(EDUCATION_CUES[label])]
    parts.append(rng.choice(EDUCATION_SUFFIXES))
    return fill(join(parts), v), label


register(
    DomainSpec(
        "education",
        "classification",
        instruction("exam question's subject", EDUCATION_LABELS),
        _education_sample,
        EDUCATION_LABELS,
        "school subject of an exam question",
    )
)
