"""FieldsBuiltOnce: a serializer's fields are built once per class and give the same output."""

from __future__ import annotations

from unittest import mock

from django.contrib.auth.models import Group

# DRF's views first: its settings import core.api's parser, which imports rest_framework.views.
from rest_framework import serializers, views  # noqa: F401

from core.api import FieldsBuiltOnce


class GroupSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    label = serializers.SerializerMethodField()

    class Meta:
        model = Group
        fields = ["id", "name", "label"]

    def get_label(self, group: Group) -> str:
        return group.name.upper()


class NamedGroupSerializer(GroupSerializer):
    class Meta(GroupSerializer.Meta):
        fields = ["name"]


class PlainGroupSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()

    class Meta:
        model = Group
        fields = ["id", "name", "label"]

    def get_label(self, group: Group) -> str:
        return group.name.upper()


def test_fields_are_built_once_per_class_and_render_as_drf_builds_them():
    groups = [Group(id=n, name=f"group {n}") for n in range(3)]
    build = serializers.ModelSerializer.get_fields
    with mock.patch.object(serializers.ModelSerializer, "get_fields", autospec=True, side_effect=build) as built:
        first = GroupSerializer(groups, many=True).data
        second = GroupSerializer(groups[0]).data
        named = NamedGroupSerializer(groups[0]).data
    # One build for each class, whatever the number of responses.
    assert [type(call.args[0]) for call in built.call_args_list].count(GroupSerializer) == 1
    assert [type(call.args[0]) for call in built.call_args_list].count(NamedGroupSerializer) == 1
    assert first == PlainGroupSerializer(groups, many=True).data
    assert second == {"id": 0, "name": "group 0", "label": "GROUP 0"}
    # A subclass keeps fields of its own.
    assert named == {"name": "group 0"}
    # Each instance binds its own copies: the class's set is never bound to one of them.
    one, two = GroupSerializer(groups[0]), GroupSerializer(groups[1])
    assert one.fields["label"] is not two.fields["label"]
    assert one.fields["label"].parent is one
