from balsa_core.shapes import hidden_state_problem


def test_layer_indices_count_from_either_end_of_the_hidden_states():
    # A 2-layer encoder has hidden states 0, 1, 2 (the embeddings and each layer): -3 to 2.
    assert hidden_state_problem([-1, -3, 0, 2], encoder_layers=2) is None
    assert "names [-4, 3]" in hidden_state_problem([-4, 1, 3], encoder_layers=2)
