"""inspectors"""
