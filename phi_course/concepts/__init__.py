"""What the lessons explain, as functions you can call and plot.

    attention     attention masks, sliding windows (lesson 01)
    memory        weights and KV cache in gigabytes, what fits where (lessons 01, 02, 10)
    family        the Phi family's data, benchmarks and plots (lesson 02)
    moe           mixture-of-experts routing, read from a real forward pass (lesson 10)
    tiny_lm       data, loop and plots for training a tiny model yourself (lesson 11)
    route_choice  every route timed side by side, what each costs, when to pick it (lesson 12)

The widgets over them are in phi_course.widgets.
"""
